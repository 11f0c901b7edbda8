/**
 * The cluster's context in the user's kubeconfig. k3d writes it on create, but with a KUBECONFIG
 * that lists several files it only warns (and `k3d kubeconfig merge -d` fails, k3d-io/k3d
 * pkg/client/kubeconfig.go KubeconfigGetDefaultPath): then it goes where kubectl itself writes new
 * entries, the first file of the list, and on delete it is removed with kubectl, which edits the file
 * that holds each entry.
 */
import { delimiter } from 'node:path';
import { kubeContext } from '../spec.js';
import { mergeKubeconfig } from '../tools/k3d.js';
import { deleteKubeconfigEntries, readKubeconfig } from '../tools/kubectl.js';
import type { Runner } from '../tools/run.js';

/** The files KUBECONFIG lists (empty entries dropped, duplicates once), or [] when it is unset. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv): string[] {
  return [...new Set((env.KUBECONFIG ?? '').split(delimiter).filter((file) => file.trim() !== ''))];
}

/** Where a new context must be written: the first file when KUBECONFIG lists several, else k3d's default. */
export function kubeconfigTarget(env: NodeJS.ProcessEnv): string | undefined {
  const files = kubeconfigFiles(env);
  return files.length > 1 ? files[0] : undefined;
}

export interface KubeContextState {
  context: string;
  /** The kubeconfig's current context after this step (k3d switches to a new cluster's context). */
  current?: string;
  /** True when the context was missing from the kubeconfig and was written again. */
  restored: boolean;
  /** The file it was written to, when KUBECONFIG lists several. */
  writtenTo?: string;
}

/**
 * Makes sure the kubeconfig has the cluster's context (someone may have removed it, or k3d could not
 * write it). `switchTo` makes it current, as k3d does for a cluster it has just created.
 */
export async function ensureKubeContext(run: Runner, name: string, env: NodeJS.ProcessEnv, switchTo = false): Promise<KubeContextState> {
  const context = kubeContext(name);
  const output = kubeconfigTarget(env);
  const kubeconfig = await readKubeconfig(run);
  if (kubeconfig.contexts.includes(context)) return { context, restored: false, ...(kubeconfig.current ? { current: kubeconfig.current } : {}) };
  await mergeKubeconfig(run, name, { switchContext: switchTo, ...(output ? { output } : {}) });
  const current = switchTo ? context : kubeconfig.current;
  return { context, restored: true, ...(current ? { current } : {}), ...(output ? { writtenTo: output } : {}) };
}

/** After `k3d cluster delete`: what k3d could not remove from a multi-file kubeconfig. */
export async function removeKubeContext(run: Runner, name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const context = kubeContext(name);
  if (!kubeconfigTarget(env)) return false;
  const kubeconfig = await readKubeconfig(run);
  if (!kubeconfig.contexts.includes(context)) return false;
  await deleteKubeconfigEntries(run, { context, cluster: context, user: `admin@${context}`, wasCurrent: kubeconfig.current === context });
  return true;
}
