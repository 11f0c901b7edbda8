/**
 * The docker tier runs against the real daemon. Without docker it is skipped with a visible notice,
 * except under CI=true, where a missing docker must fail the run.
 */
import { execFileSync } from 'node:child_process';
import { requireTool } from './tools.js';

function dockerReachable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

export const dockerAvailable = requireTool(dockerReachable(), 'a docker daemon', 'start dockerd; see .ci/run');

export function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 }).trim();
}
