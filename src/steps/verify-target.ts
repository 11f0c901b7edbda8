/**
 * What `verify` needs before the round trip: our cluster, running, the registry port it publishes,
 * and the credentials in its state folder.
 */
import { UserError } from '../errors.js';
import { readCredentials } from '../state/credentials.js';
import { statePath } from '../state/layout.js';
import type { Runner } from '../tools/run.js';
import { inspectCluster, isRunning, publishedRegistryPort, refuseForeign } from './preflight.js';

export interface VerifyTarget {
  port: number;
  credentials: { username: string; password: string };
}

export async function findVerifyTarget(run: Runner, name: string, stateDir: string): Promise<VerifyTarget> {
  const facts = await inspectCluster(run, name);
  refuseForeign(facts);
  if (!facts.cluster) throw new UserError(`there is no k3d cluster named ${name}`, 'create it with k3s-devreg up');
  if (!isRunning(facts)) throw new UserError(`the cluster ${name} is not running`, 'start it with k3s-devreg up');
  const port = publishedRegistryPort(facts);
  if (port === undefined) throw new UserError(`the cluster ${name} publishes no registry port`, 'run k3s-devreg down, then up');
  const credentials = await readCredentials(stateDir);
  if (!credentials) throw new UserError(`no credentials at ${statePath(stateDir, 'credentials')}`, 'run k3s-devreg up (or reset, if the state folder was lost)');
  return { port, credentials };
}
