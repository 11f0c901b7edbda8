/** The --context of `registries apply/status` must name a context of the user's kubeconfig. */
import { UserError } from '../errors.js';
import { listContexts } from '../tools/kubectl.js';
import type { Runner } from '../tools/run.js';

export async function requireKubeContext(runner: Runner, context: string): Promise<void> {
  const contexts = await listContexts(runner);
  if (contexts.includes(context)) return;
  const known = contexts.length === 0 ? 'it has no context at all' : `it has ${contexts.slice(0, 6).join(', ')}${contexts.length > 6 ? ', ...' : ''}`;
  throw new UserError(
    `your kubeconfig has no context named ${JSON.stringify(context)} (${known})`,
    'pass one of `kubectl config get-contexts --output name` with --context, or set KUBECONFIG to the file that has it',
  );
}
