// A no-op `up` (healthy cluster, nothing to change), timed with the stand-in docker/k3d/kubectl
// from test/helpers/fake-bin, since k3d cannot run here. Each stand-in call costs one node start-up,
// so the time is an upper bound on our own overhead; the count of external calls is printed too.
import { readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fakeBin = fileURLToPath(new URL('../helpers/fake-bin', import.meta.url));
const env = (work) => ({
  PATH: `${fakeBin}${delimiter}${process.env.PATH}`,
  FAKE_PORT: '31999',
  FAKE_TOOLS_STATE: join(work, 'fake-cluster'),
  FAKE_TOOLS_LOG: join(work, 'fake-calls.log'),
});
const calls = (work) => readFileSync(join(work, 'fake-calls.log'), 'utf8').trim().split('\n');
const CHANGING = /\b(create|apply|delete|start|stop|push|login|build|run|rm|restart|tag)\b/;
const changing = (work) => calls(work).filter((call) => CHANGING.test(call.split(' ').slice(0, 4).join(' ')));

export default [
  {
    name: 'up (no-op, stand-in tools)',
    env,
    warmUp: true,
    args: (bin) => [bin, 'up', '--yes', '--port', '31999'],
    // The log then holds the external calls of the last run only.
    prepare: (work) => rmSync(join(work, 'fake-calls.log'), { force: true }),
    target: 'a few seconds with real tools;',
    note: (work) => `${calls(work).length} external calls, ${changing(work).length} of them changing something`,
    ok: (ms) => ms < 3000,
  },
];
