/**
 * The one place that starts external programs. The per-tool wrappers (docker.ts, k3d.ts, kubectl.ts)
 * receive a Runner, so tests pass a recording stand-in and assert exact argv and stdin.
 * Arguments are always arrays, never shell strings; secrets travel on stdin, never in argv.
 */
import { redact } from '../redact.js';

export interface RunOptions {
  /** Written to the child's stdin; never logged. */
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
  /** Keep stdout byte for byte (default: one final newline is removed). */
  rawStdout?: boolean;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the program itself could not be started (not installed). */
  notFound?: boolean;
  timedOut?: boolean;
}

export type Runner = (file: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export function formatCommand(file: string, args: readonly string[]): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return redact([file, ...args].map(quote).join(' '));
}

/** Our own secret settings stay with us: no child (k3d expands $VARS in configs) inherits them. */
const PRIVATE_ENV = ['K3S_DEVREG_PASSWORD'];

export function childEnv(parent: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...parent, ...extra };
  for (const name of PRIVATE_ENV) delete env[name];
  return env;
}

export function createRunner(log?: (line: string) => void): Runner {
  return async (file, args, options = {}) => {
    log?.(`$ ${formatCommand(file, args)}${options.input === undefined ? '' : ' <stdin>'}`);
    // Loaded on first use: execa costs ~90 ms of start-up that `render` and `--help` do not need.
    const { execa } = await import('execa');
    const result = await execa(file, [...args], {
      input: options.input,
      env: childEnv(process.env, options.env),
      extendEnv: false,
      cwd: options.cwd,
      timeout: options.timeoutMs,
      reject: false,
      stripFinalNewline: options.rawStdout !== true,
    });
    const notFound = (result as { code?: string }).code === 'ENOENT';
    return {
      exitCode: result.exitCode ?? (notFound ? 127 : 1),
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      notFound,
      timedOut: result.timedOut,
    };
  };
}
