// A no-op `up` (healthy cluster, nothing to change), timed with the stand-in docker/k3d/kubectl
// from test/helpers/fake-bin, since k3d cannot run here. Each stand-in call costs one node start-up,
// so the time is an upper bound on our own overhead. Printed with it: how many external calls it
// made, how many change something, and in how many serial groups they ran (calls whose lifetimes
// overlap share a group), from the stand-ins' own start and end times.
import { readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fakeBin = fileURLToPath(new URL('../helpers/fake-bin', import.meta.url));
const env = (work) => ({
  PATH: `${fakeBin}${delimiter}${process.env.PATH}`,
  FAKE_PORT: '31999',
  FAKE_TOOLS_STATE: join(work, 'fake-cluster'),
  FAKE_TOOLS_TIMES: join(work, 'fake-times.log'),
});
const CHANGING = /\b(create|apply|delete|start|stop|push|login|build|run|rm|restart|tag)\b/;

/** The last run's calls, from the stand-ins' log. */
const lastRun = (work) =>
  readFileSync(join(work, 'fake-times.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

/** Sweeps the calls by start time: one that starts after every earlier one ended opens a new group. */
export function serialGroups(calls) {
  let groups = 0;
  let openUntil = -Infinity;
  for (const call of [...calls].sort((a, b) => a.start - b.start)) {
    if (call.start >= openUntil) groups++;
    openUntil = Math.max(openUntil, call.end);
  }
  return groups;
}

export default [
  {
    name: 'up (no-op, stand-in tools)',
    env,
    warmUp: true,
    args: (bin) => [bin, 'up', '--yes', '--port', '31999'],
    // The log then holds the external calls of the last run only.
    prepare: (work) => rmSync(join(work, 'fake-times.log'), { force: true }),
    note: 'each stand-in call is a node start: an upper bound',
    check: (work) => {
      const calls = lastRun(work);
      return [
        { name: 'external calls', value: calls.length, target: 8 },
        { name: 'serial groups', value: serialGroups(calls), target: 5 },
        { name: 'calls that change something', value: calls.filter((c) => CHANGING.test(c.call.split(' ').slice(0, 4).join(' '))).length, target: 0 },
      ];
    },
  },
];
