/**
 * Docker rebuilds a container's /etc/hosts at every start, dropping our registry line, and k3d puts
 * back only its own entries, and only on `k3d cluster start`. A node container that started since
 * `up` last looked (docker or the machine restarted) has therefore lost the line until the hosts
 * DaemonSet writes it again: `up` must wait for it and verify again, and `status` says so.
 */
import type { ClusterFacts } from './preflight.js';

/** docker's State.StartedAt of each k3s node container (servers and agents), by name. */
export function nodeStartTimes(facts: ClusterFacts): Record<string, string> {
  const times: Record<string, string> = {};
  for (const node of facts.cluster?.nodes ?? []) {
    if (node.role !== 'server' && node.role !== 'agent') continue;
    const startedAt = facts.containers.get(node.name)?.startedAt;
    if (startedAt) times[node.name] = startedAt;
  }
  return times;
}

/** The nodes whose start time differs from the one recorded (none when nothing was recorded yet). */
export function restartedSince(recorded: Record<string, string> | undefined, now: Record<string, string>): string[] {
  if (!recorded) return [];
  return Object.keys(now)
    .filter((name) => recorded[name] !== undefined && recorded[name] !== now[name])
    .sort();
}
