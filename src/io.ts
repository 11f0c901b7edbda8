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

/** The exit status a shell shows for a program that SIGPIPE ended (128 + 13). */
export const CLOSED_PIPE_EXIT = 141;

/**
 * Output into a closed pipe (`k3s-devreg status | head -1`) ends the process at once and quietly,
 * as SIGPIPE ends other programs; node ignores SIGPIPE and would throw EPIPE from the stream instead.
 * There is nobody left to tell, so no message; 141 is what `set -o pipefail` sees from any such program.
 */
export function stopQuietlyWhenOutputCloses(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(CLOSED_PIPE_EXIT);
      throw error;
    });
  }
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
