/**
 * The model of docker, k3d and kubectl (fake-world.mjs) driven in-process: its answers come back
 * through recordingRunner, so whole commands run in unit tests and their exact argv is recorded.
 * Every config and manifest passed in is kept for schema checks. The CLI tests and the bench drive
 * the same model as programs on PATH (fake-bin/fake-tool.mjs).
 */
import { FakeTools } from './fake-world.mjs';
import { recordingRunner, type RecordedCall, type RecordingRunner } from './recording-runner.js';

export { SERVICE_IP, type FakeCluster, type FakeWorldOptions } from './fake-world.mjs';

export class FakeWorld extends FakeTools {
  readonly runner: RecordingRunner = recordingRunner((call) => this.answer(call));
}

/** Calls that only read. Everything else counts as a change (the "second up changes nothing" test). */
export function isReadOnly(call: RecordedCall): boolean {
  const line = [call.file, ...call.args].join(' ');
  const kubectlRest = call.file === 'kubectl' && call.args[0] === '--context' ? call.args.slice(2) : call.args;
  const verb = kubectlRest[0] === '--namespace' ? kubectlRest[2] : kubectlRest[0];
  return (
    /^docker (version|container inspect|image inspect|volume inspect|network inspect|ps|volume ls|system df) /.test(line) ||
    /^docker exec \S+ cat \/etc\/hosts$/.test(line) ||
    /^k3d (version|cluster list)( |$)/.test(line) ||
    /^kubectl (version|config current-context|config get-contexts|config view)( |$)/.test(line) ||
    (call.file === 'kubectl' && (verb === 'get' || verb === 'logs' || (verb === 'rollout' && kubectlRest.includes('status'))))
  );
}
