/** What a command may touch of the outside world besides files and external tools; injected for tests. */
import { redact } from './redact.js';

export interface Io {
  /** A line for people or scripts on stdout (redacted). */
  out(text: string): void;
  /** A line of progress or diagnostics on stderr (redacted). */
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdoutIsTTY: boolean;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(`${redact(text)}\n`),
    err: (text) => process.stderr.write(`${redact(text)}\n`),
    env: process.env,
    cwd: process.cwd(),
    // Made on first use: process.stdin loads node's stream machinery, which --help does not need.
    get stdin() {
      return process.stdin;
    },
    stdoutIsTTY: Boolean(process.stdout.isTTY),
  };
}


/** CI=true (or any value but false/0) means no person is watching. */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return Boolean(ci) && ci !== 'false' && ci !== '0';
}

/** Prompts are allowed only for a person at a terminal who did not say --yes. */
export function canPrompt(io: Io, yes: boolean | undefined): boolean {
  if (yes || isCi(io.env)) return false;
  return Boolean(io.stdin.isTTY);
}

export async function readAllStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
