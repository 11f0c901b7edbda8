/**
 * Gates for the tiers that need a real tool (docker, openssl, htpasswd, age): without the tool the
 * tier is skipped with a visible notice, except under CI=true, where that fails the run.
 */
import { createServer } from 'node:net';
import { isCi } from '../../src/io.js';

export function requireTool(available: boolean, what: string, install: string): boolean {
  if (!available) {
    if (isCi(process.env)) throw new Error(`CI=true but ${what} is not available: this tier cannot be skipped in CI (${install})`);
    console.warn(`NOTICE: ${what} not available: skipping its tests (${install})`);
  }
  return available;
}

const listenable = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });

/**
 * A TCP port on loopback that nothing listens on right now, below Linux's ephemeral range
 * (32768+): the e2e suites hold it across cluster re-creations for minutes, while k3d's random API
 * port and outgoing connections draw from the ephemeral range and could take it meanwhile.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      return await listenable(port);
    } catch {
      // Taken: try another.
    }
  }
  return listenable(0);
}
