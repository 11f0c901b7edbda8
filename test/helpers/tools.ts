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

/** A TCP port on loopback that nothing listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
