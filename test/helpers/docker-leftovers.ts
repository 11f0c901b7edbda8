/**
 * vitest globalSetup: every docker-using tier (test/docker, test/node) shares one daemon, and its
 * files run in parallel workers, so only the run's teardown sees them all finished. It compares
 * the daemon before and after: containers, volumes, networks and images carrying the test label,
 * plus volumes without it that nothing uses (the anonymous volume of a container removed without
 * `-v`, say) and new image tags of the tests' shape. Anything new that is still there fails the
 * run, listed with how to remove it. Objects that were there before the run are not its to judge.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { BUSYBOX_IMAGE, REGISTRY_IMAGE } from './images.js';
import { TEST_LABEL } from './labels.js';

export interface DockerSnapshot {
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
  /** Every volume, labelled or not, and which of them no container uses. */
  allVolumes: string[];
  danglingVolumes: string[];
  tags: string[];
}

/** The tiers whose files talk to the daemon; a run of only other files is not checked. */
const DOCKER_TIERS = /\/test\/(docker|node)\//;
// Built once per machine and kept on purpose (images.ts): building them is the slow part of a first run.
const KEPT_TAGS = new Set([BUSYBOX_IMAGE, REGISTRY_IMAGE]);
/** Tags the tests make: pushes to a registry on loopback, and their own k3s-devreg-test/ images (others' builds are not ours). */
const TEST_TAG = /^(localhost:\d+\/|127\.0\.0\.1:\d+\/|k3s-devreg-test\/)/;

const lines = (args: string[]): string[] =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).split('\n').map((l) => l.trim()).filter(Boolean);

export function dockerSnapshot(): DockerSnapshot {
  const label = ['--filter', `label=${TEST_LABEL}`];
  return {
    containers: lines(['ps', '-a', ...label, '--format', '{{.Names}}']),
    volumes: lines(['volume', 'ls', '-q', ...label]),
    networks: lines(['network', 'ls', ...label, '--format', '{{.Name}}']),
    images: [...new Set(lines(['images', '-q', '--no-trunc', ...label]))],
    allVolumes: lines(['volume', 'ls', '-q']),
    danglingVolumes: lines(['volume', 'ls', '-q', '--filter', 'dangling=true']),
    tags: lines(['images', '--format', '{{.Repository}}:{{.Tag}}']).filter((t) => !t.includes('<none>')),
  };
}

/** What `after` holds that `before` did not, by kind, each with the command that removes it. */
export function leftovers(before: DockerSnapshot, after: DockerSnapshot): string[] {
  const added = (was: string[], now: string[]) => now.filter((x) => !was.includes(x));
  const unlabelledVolumes = added(before.allVolumes, after.danglingVolumes).filter((v) => !after.volumes.includes(v));
  const found: Array<[string, string[], string]> = [
    ['container', added(before.containers, after.containers), 'docker rm -f -v'],
    ['labelled volume', added(before.volumes, after.volumes), 'docker volume rm'],
    ['unlabelled unused volume', unlabelledVolumes, 'docker volume rm'],
    ['network', added(before.networks, after.networks), 'docker network rm'],
    ['labelled image', added(before.images, after.images), 'docker rmi'],
    ['image tag', added(before.tags, after.tags).filter((t) => TEST_TAG.test(t) && !KEPT_TAGS.has(t)), 'docker rmi'],
  ];
  return found.filter(([, names]) => names.length > 0).map(([kind, names, fix]) => `${names.length} ${kind}(s) left behind: ${names.join(' ')} (remove: ${fix} ${names.join(' ')})`);
}

function dockerReachable(): boolean {
  try {
    lines(['info', '--format', '{{.ServerVersion}}']);
    return true;
  } catch {
    return false;
  }
}

export default function setup(project: TestProject): (() => Promise<void>) | undefined {
  // No daemon: the tiers skip themselves (or fail under CI=true) and have nothing to leave.
  if (!dockerReachable()) return undefined;
  const before = dockerSnapshot();
  return async () => {
    const ran = project.vitest.state.getFiles().map((f) => f.filepath);
    if (!ran.some((file) => DOCKER_TIERS.test(file))) return;
    // `--rm` containers are removed by the daemon just after they exit: give that a moment.
    let found = leftovers(before, dockerSnapshot());
    for (let waited = 0; found.length > 0 && waited < 10_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      found = leftovers(before, dockerSnapshot());
    }
    if (found.length === 0) return;
    process.exitCode = 1;
    throw new Error(`the docker tiers left objects on the daemon (every test removes what it creates; a test run alongside on the same daemon shows here too):\n  ${found.join('\n  ')}`);
  };
}
