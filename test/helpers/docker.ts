/**
 * The docker tier runs against the real daemon. Without docker it is skipped with a visible notice,
 * except under CI=true, where a missing docker must fail the run.
 */
import { execFileSync } from 'node:child_process';

function dockerReachable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

export const dockerAvailable = dockerReachable();
const ci = process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

if (!dockerAvailable) {
  if (ci) throw new Error('CI=true but no docker daemon is reachable: the docker test tier cannot be skipped in CI (start dockerd; see .ci/run)');
  console.warn('NOTICE: no docker daemon reachable: skipping the docker test tier (start docker to run it)');
}

export function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 }).trim();
}
