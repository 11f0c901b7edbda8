/**
 * Which registries.yaml each node's k3s or RKE2 reads, as far as the cluster can tell us, and the
 * refusals `registries apply` makes before it changes anything.
 *
 * Facts (read in k3s-io/k3s and rancher/rke2):
 * - The file is the `private-registry` flag, default `/etc/rancher/<program>/registries.yaml`, with no
 *   environment variable of its own (k3s pkg/cli/cmds/agent.go, PrivateRegistryFlag). RKE2 copies the
 *   flag, so its default is `/etc/rancher/rke2/registries.yaml` (rke2 pkg/cli/cmds/agent.go, k3sopts.go).
 * - Flags also come from the config file: `--config`/`-c` or `<PROGRAM>_CONFIG_FILE`, default
 *   `/etc/rancher/<program>/config.yaml`, then `config.yaml.d/*.yaml|*.yml` in name order, a later
 *   key replacing an earlier one and `key+:` appending; config values come before the command line's,
 *   so the command line wins (k3s pkg/configfilearg/parser.go, defaultparser.go).
 * - Each node records the merged result, config files and command line, in the annotation
 *   `<program>.io/node-args` when k3s starts (k3s pkg/nodeconfig/nodeconfig.go, since k3s PR 3290):
 *   the last `--private-registry` there is the file the running k3s read.
 * - kubeletVersion says which program runs: `v1.31.5+k3s1` or `v1.31.5+rke2r1`.
 */
import { UserError } from '../errors.js';
import { refuseCaRegression } from '../k3s-versions.js';
import type { NodeRole } from '../tools/kubectl-objects.js';

export type Distribution = 'k3s' | 'rke2';

/** The only host folder the writer mounts to write in (besides the CA folder). */
export const WRITABLE_ROOT = '/etc/rancher';

export const defaultRegistriesPath = (distribution: Distribution): string => `${WRITABLE_ROOT}/${distribution}/registries.yaml`;

export function distributionOf(kubeletVersion: string): Distribution | undefined {
  if (/\+k3s\d+$/.test(kubeletVersion)) return 'k3s';
  if (/\+rke2r\d+$/.test(kubeletVersion)) return 'rke2';
  return undefined;
}

/** What the node-args annotation says, or undefined when there is none (or it is not a JSON list of strings). */
export function privateRegistryFromNodeArgs(annotation: string | undefined, distribution: Distribution): string | undefined {
  if (annotation === undefined) return undefined;
  let args: unknown;
  try {
    args = JSON.parse(annotation);
  } catch {
    return undefined;
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return undefined;
  // `--flag=value` is recorded as two elements, like `--flag value`; for a string flag the last wins.
  let path = defaultRegistriesPath(distribution);
  args.forEach((arg, i) => {
    if (arg === '--private-registry' && i + 1 < args.length) path = args[i + 1] as string;
  });
  return path;
}

export interface NodeTarget {
  node: string;
  distribution: Distribution;
  /** From the node-args annotation; absent when the node has none (the writer then reads the config files alone). */
  path?: string;
}

const SAFE_PATH = /^\/etc\/rancher\/[A-Za-z0-9._/-]+$/;

/** Per node: the program and the file it reads. Refuses (UserError) a node that is neither k3s nor RKE2, or reads a file the writer cannot reach. */
export function nodeTargets(nodes: NodeRole[]): NodeTarget[] {
  return nodes.map(({ name, kubeletVersion, annotations }) => {
    const distribution = distributionOf(kubeletVersion);
    if (!distribution) {
      throw new UserError(
        `node ${name} runs kubelet ${kubeletVersion || '(version not reported)'}, which is neither k3s nor RKE2, so where its registries.yaml lives is unknown`,
        `registries apply configures k3s and RKE2 nodes only: configure containerd on ${name} yourself, or run the command against a k3s or RKE2 cluster`,
      );
    }
    const path = privateRegistryFromNodeArgs(annotations[`${distribution}.io/node-args`], distribution);
    if (path !== undefined && (!SAFE_PATH.test(path) || path.split('/').includes('..'))) {
      throw new UserError(
        `${distribution} on node ${name} reads ${JSON.stringify(path)} (its private-registry setting), outside ${WRITABLE_ROOT}, the only folder the writer can reach`,
        `set private-registry to a file under ${WRITABLE_ROOT}/${distribution} (or remove it) in ${name}'s config.yaml or command line and restart ${distribution} there, or write that file on ${name} yourself`,
      );
    }
    return { node: name, distribution, ...(path !== undefined ? { path } : {}) };
  });
}

/** One line per node for the writer: `NODE DISTRIBUTION PATH` (`-` when unknown). Node names hold no spaces. */
export const nodeTable = (targets: NodeTarget[]): string => targets.map((t) => `${t.node} ${t.distribution} ${t.path ?? '-'}\n`).join('');

/** A k3s release that ignores tls.ca_file (k3s issue 9839) cannot use a file that sets one: refuse before changing anything. */
export function refuseCaRegressionNodes(nodes: NodeRole[], configuresCaFile: boolean): void {
  if (!configuresCaFile) return;
  for (const node of nodes) {
    const program = distributionOf(node.kubeletVersion) === 'rke2' ? 'RKE2' : 'k3s';
    refuseCaRegression(
      node.kubeletVersion,
      `node ${node.name}`,
      `upgrade ${program} on ${node.name} to a release with the fix (v1.29.4, v1.28.9, v1.27.13 or later), then run registries apply again`,
    );
  }
}
