/**
 * The k3d `Simple` config (k3d.io/v1alpha5). k3d expands `$VAR` everywhere in this file and has no
 * escape, so it holds no secret: k3s reads registries.yaml from the mounted node/ folder instead.
 */
import {
  CLUSTER_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  K3D_PHASE_TIMEOUT_SECONDS,
  NODE_CONFIG_DIR,
  NODE_IMAGES_DIR,
  NODE_PORT,
  NODE_REGISTRY_DATA_DIR,
  clusterNetwork,
  registryVolumeName,
  type ClusterSpec,
} from '../spec.js';

/**
 * Every k3s node (k3d-io/k3d pkg/util/filter.go: `server:*` and `agent:*`; an empty group is fine).
 * A fresh array each time: one shared array would be written as a YAML anchor and aliases (`&a1`,
 * `*a1`), which k3d reads, but which is needlessly hard to read and to edit by hand.
 */
const allNodes = (): string[] => ['server:*', 'agent:*'];

export interface K3dConfigInput {
  /** Absolute host path of the state folder's node/ subfolder. */
  nodeDir: string;
  /** Absolute host path of the state folder's images/ subfolder (archives k3s imports at start). */
  imagesDir: string;
}

export function renderK3dConfig(spec: ClusterSpec, input: K3dConfigInput): Record<string, unknown> {
  return {
    apiVersion: 'k3d.io/v1alpha5',
    kind: 'Simple',
    metadata: { name: spec.name },
    servers: 1,
    agents: spec.agents,
    // Pinned: k3d's default k3s differs from build to build (see DEFAULT_K3S_IMAGE).
    image: spec.k3sImage,
    // Loopback only, like the registry port: k3d's default is 0.0.0.0, every interface.
    kubeAPI: { hostIP: '127.0.0.1' },
    // With the cache, up makes this network first and starts the cache on it, so the nodes' very
    // first pulls (k3s's system images) already go through it; k3d then joins it and, since it did
    // not make it, leaves it to down. k3d's own name for it, so nothing else changes.
    ...(spec.cache ? { network: clusterNetwork(spec.name) } : {}),
    volumes: [
      { volume: `${input.nodeDir}:${NODE_CONFIG_DIR}:ro`, nodeFilters: allNodes() },
      // Read-write: k3s from v1.31.9 may keep its import bookkeeping (.cache.json) beside the archives.
      { volume: `${input.imagesDir}:${NODE_IMAGES_DIR}`, nodeFilters: allNodes() },
      // A named docker volume: survives `down`/`up`, shared by every node, removed by `reset`.
      { volume: `${registryVolumeName(spec.name)}:${NODE_REGISTRY_DATA_DIR}`, nodeFilters: allNodes() },
    ],
    ports: [
      // Loopback only: the registry is for this machine, not the local network.
      { port: `127.0.0.1:${spec.hostPort}:${NODE_PORT}`, nodeFilters: ['loadbalancer'] },
    ],
    options: {
      // k3d's timeout also covers pulling the k3s image on a first run (a slow link needs minutes).
      k3d: { wait: true, timeout: `${K3D_PHASE_TIMEOUT_SECONDS}s` },
      k3s: {
        extraArgs: [
          { arg: `--private-registry=${NODE_CONFIG_DIR}/registries.yaml`, nodeFilters: allNodes() },
          // Offline, a registry's mirrors are all there is: no quiet fallback to the internet (k3s v1.26.13+).
          ...(spec.offline ? [{ arg: '--disable-default-registry-endpoint', nodeFilters: allNodes() }] : []),
        ],
      },
      kubeconfig: { updateDefaultKubeconfig: true, switchCurrentContext: true },
      runtime: {
        labels: [
          { label: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, nodeFilters: allNodes() },
          { label: `${CLUSTER_LABEL}=${spec.name}`, nodeFilters: allNodes() },
        ],
      },
    },
  };
}
