/**
 * What `up` does, from typed options to the next-steps text: `up` runs it, and `reset` runs it again
 * after deleting. Check the flags and the team file, then the tools, then ask, then the steps.
 */
import { loadGivenOptions, resolveClusterOptions, type ClusterFlags, type ResolvedOptions, type TeamFile } from '../options.js';
import { runSteps } from '../progress.js';
import { DEFAULT_CLUSTER_NAME, kubeContext, registryAddress } from '../spec.js';
import type { KubeContextState } from './kubeconfig.js';
import { checkTools } from './preflight.js';
import type { RenderResult } from './render-state.js';
import { readUpState } from './up-state.js';
import { runUpSteps, type UpDeps } from './up-steps.js';
import { EXAMPLE_DIR } from './verify.js';
import type { Io } from '../io.js';

export interface UpRequest {
  flags: ClusterFlags;
  verbose: boolean;
  /** The team file loadGivenOptions already read and checked for these flags (reset): not read again. */
  teamFile?: TeamFile;
}

/** What the user needs next: how to push, what the cluster calls the image, where things are. */
export function nextSteps(ctx: { resolved: ResolvedOptions; render: RenderResult; kube?: KubeContextState }): string {
  const { spec } = ctx.resolved;
  const nameFlag = spec.name === DEFAULT_CLUSTER_NAME ? '' : ` --name ${spec.name}`;
  const context = kubeContext(spec.name);
  const push = `localhost:${spec.hostPort}`;
  const contextLine =
    ctx.kube?.current === context
      ? `kubectl uses the context ${context} (now current).`
      : `kubectl context: ${context} (current is ${ctx.kube?.current ?? 'none'}; switch with: kubectl config use-context ${context}).`;
  return [
    '',
    `Cluster ${spec.name} is ready with a private registry. ${contextLine}`,
    '',
    `Push from this machine (docker is logged in to ${push}):`,
    `  docker build -t ${push}/my-app:dev .`,
    `  docker push ${push}/my-app:dev`,
    '',
    'Use it in the cluster by the same name, or by the in-cluster one (both pull from this registry):',
    `  image: ${push}/my-app:dev`,
    `  image: ${registryAddress()}/my-app:dev`,
    `  (example: kubectl apply -f ${EXAMPLE_DIR}pod.yaml)`,
    '',
    `Credentials: ${ctx.render.files.credentials} (username ${ctx.render.credentials.username})`,
    `  log in elsewhere: node -p "require('${ctx.render.files.credentials}').password" | docker login ${push} -u ${ctx.render.credentials.username} --password-stdin`,
    `CA certificate: ${ctx.render.files.caCert}`,
    '',
    `Health: npx k3s-devreg status${nameFlag}    Round trip: npx k3s-devreg verify${nameFlag}`,
    `Tear down: npx k3s-devreg down${nameFlag} (keeps credentials, CA and images; reset${nameFlag} starts over)`,
  ].join('\n');
}

/** Runs up's steps and returns the next-steps text. */
export async function runUp(request: UpRequest, io: Io, deps: UpDeps): Promise<string> {
  const { flags, verbose } = request;
  // Typos in flags and the team file first; then the tools, so no question is asked when the answers could not be used anyway.
  const teamFile = request.teamFile ?? (await loadGivenOptions(flags, io));
  await runSteps(
    [
      {
        title: 'Checking docker, k3d and kubectl',
        readOnly: true,
        run: async (_ctx, step) => {
          const tools = await checkTools(deps.run);
          step.title(`docker ${tools.docker}, k3d v${tools.k3d.k3d}, kubectl ${tools.kubectl}`);
        },
      },
    ],
    {},
    { io, verbose, signal: deps.signal },
  );
  const resolved = await resolveClusterOptions(flags, io, deps.ask, teamFile);
  const done = await runUpSteps({ io, deps, resolved, upState: await readUpState(resolved.spec.stateDir) }, { io, verbose, signal: deps.signal });
  return nextSteps(done);
}
