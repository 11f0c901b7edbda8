/** An Io stand-in that captures everything a command prints. */
import { Readable } from 'node:stream';
import type { Io } from '../../src/io.js';

export interface CapturedIo extends Io {
  stdout: string[];
  stderr: string[];
  /** Everything printed, both streams, for "no secret anywhere" checks. */
  all(): string;
}

export function captureIo(options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; tty?: boolean } = {}): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as Readable & { isTTY?: boolean };
  stdin.isTTY = options.tty ?? false;
  return {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stdin,
    stdoutIsTTY: options.tty ?? false,
    stdout,
    stderr,
    all: () => [...stdout, ...stderr].join('\n'),
  };
}
