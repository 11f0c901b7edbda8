/**
 * A Runner stand-in for unit tests: records every call (program, argv, stdin, cwd) and answers from a
 * function, so tests assert exact kubectl/docker/k3d argv and that secrets travel on stdin only.
 */
import type { CommandResult, RunOptions, Runner } from '../../src/tools/run.js';

export interface RecordedCall {
  file: string;
  args: string[];
  input?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Extra environment for the child (e.g. DOCKER_CONFIG). */
  env?: Record<string, string>;
  /** Stdout kept byte for byte (credential commands). */
  rawStdout?: boolean;
}

export type Reply = Partial<CommandResult>;

export interface RecordingRunner extends Runner {
  calls: RecordedCall[];
  /** Each call as one line, `file arg arg ...`, for compact exact-argv assertions. */
  lines(): string[];
}

/** `respond` sees each call and returns its result; anything it leaves out means success, empty output. */
export function recordingRunner(respond: (call: RecordedCall) => Reply | undefined = () => ({})): RecordingRunner {
  const calls: RecordedCall[] = [];
  const run = async (file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> => {
    const call: RecordedCall = { file, args: [...args] };
    if (options.input !== undefined) call.input = options.input;
    if (options.cwd !== undefined) call.cwd = options.cwd;
    if (options.timeoutMs !== undefined) call.timeoutMs = options.timeoutMs;
    if (options.env !== undefined) call.env = options.env;
    if (options.rawStdout !== undefined) call.rawStdout = options.rawStdout;
    calls.push(call);
    const reply = respond(call) ?? {};
    return { exitCode: 0, stdout: '', stderr: '', ...reply };
  };
  return Object.assign(run, { calls, lines: () => calls.map((c) => [c.file, ...c.args].join(' ')) });
}
