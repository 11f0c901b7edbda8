/**
 * Shared by the per-tool wrappers: turn a failed CommandResult into one ToolError sentence that
 * names the command, what the tool said (its last meaningful stderr line), and the fix.
 */
import { ToolError, UserError } from '../errors.js';
import type { CommandResult } from './run.js';

export interface ToolInfo {
  /** The program, e.g. 'k3d'. */
  name: string;
  /** Where to get it, said when it is not installed. */
  install: string;
}

export const DOCKER: ToolInfo = { name: 'docker', install: 'install Docker from https://docs.docker.com/get-docker/ and make sure `docker` is on your PATH' };
export const K3D: ToolInfo = { name: 'k3d', install: 'install it from https://k3d.io (v5.5.0 or newer) and make sure `k3d` is on your PATH' };
export const KUBECTL: ToolInfo = { name: 'kubectl', install: 'install it from https://kubernetes.io/docs/tasks/tools/ and make sure `kubectl` is on your PATH' };

/** ANSI colour codes: k3d's logrus formatter is created with `ForceColors: true` (k3d-io/k3d cmd/root.go, initLogging). */
export const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The last line that says something, without k3d/logrus prefixes. k3d prints them coloured even into
 * a pipe (`\x1b[31mFATA\x1b[0m[0003] `), and with LOG_TIMESTAMPS set as `FATA[2024-01-01T00:00:00Z] `.
 */
export function lastMessage(text: string): string {
  const lines = text
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((line) => line.replace(/^(?:(?:PANI|FATA|ERRO|WARN|INFO|DEBU|TRAC)\[[^\]]*\]|time="[^"]*" level=\w+ msg=)\s*/, '').trim())
    .filter((line) => line.length > 0);
  const last = lines.at(-1) ?? '';
  return last.length > 300 ? `${last.slice(0, 297)}...` : last;
}

/** The end of the problem a missing tool gives; preflight names several missing tools in one line by it. */
export const NOT_INSTALLED = ' is not installed (or not on PATH)';

/** A missing tool is a missing prerequisite: a UserError (exit 2). */
export function notInstalled(tool: ToolInfo): UserError {
  return new UserError(`${tool.name}${NOT_INSTALLED}`, tool.install);
}

/**
 * Throws when the command did not succeed. `action` completes "could not ...", e.g.
 * "create the k3d cluster devreg"; `fix` is the sentence the user acts on.
 */
export function ensureOk(tool: ToolInfo, action: string, result: CommandResult, fix: string, timeoutMs?: number): CommandResult {
  if (result.notFound) throw notInstalled(tool);
  if (result.timedOut) {
    const limit = timeoutMs ? ` within ${Math.round(timeoutMs / 1000)}s` : '';
    throw new ToolError(`${tool.name} could not ${action}: no answer${limit}`, fix);
  }
  if (result.exitCode !== 0) {
    const said = lastMessage(result.stderr) || lastMessage(result.stdout);
    throw new ToolError(`${tool.name} could not ${action} (exit ${result.exitCode}${said ? `: ${said}` : ''})`, fix, result.stderr);
  }
  return result;
}

export function parseJson<T>(tool: ToolInfo, action: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ToolError(
      `${tool.name} gave output that is not JSON when asked to ${action}`,
      `check that \`${tool.name}\` is the real ${tool.name} and up to date`,
      text.slice(0, 500),
    );
  }
}
