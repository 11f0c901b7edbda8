/** KEP-1755: tells Tilt, Skaffold and ctlptl where to push and what the cluster pulls from. */
import { toYaml } from '../yaml-stream.js';
import { REGISTRY_PORT, serviceDnsNames, type ClusterSpec } from '../../spec.js';
import { metadata, type KubeObject } from './common.js';

export const KEP_1755_HELP =
  'https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry';

export function localRegistryHosting(spec: ClusterSpec): KubeObject {
  const hosting = {
    host: `localhost:${spec.hostPort}`,
    // Pods resolve through cluster DNS, not the node's /etc/hosts: they reach the Service by its name.
    hostFromClusterNetwork: `${serviceDnsNames()[1]}:${REGISTRY_PORT}`,
    // One name: every node mirrors localhost:<port> to our registry (registries.yaml), so tools push
    // and write pod specs with the same name (kind's local-registry recipe does the same).
    // container-registry.local:5000 keeps working too.
    hostFromContainerRuntime: `localhost:${spec.hostPort}`,
    help: KEP_1755_HELP,
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata('local-registry-hosting', 'local-registry-hosting', 'kube-public'),
    data: { 'localRegistryHosting.v1': toYaml(hosting) },
  };
}
