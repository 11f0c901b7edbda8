/**
 * Every Kubernetes object `up` applies, as plain objects in apply order. Pure: the caller reads
 * the hosts script and the secrets and writes the files.
 */
import type { ClusterSpec } from '../spec.js';
import { hostsDaemonSet, hostsScriptConfigMap } from './manifests/hosts.js';
import { localRegistryHosting } from './manifests/kep1755.js';
import { deployment, namespace, secret, service } from './manifests/registry.js';
import { toYaml, yamlStream } from './yaml-stream.js';

export interface ManifestInput {
  /** PEM */
  tlsCert: string;
  /** PEM */
  tlsKey: string;
  /** htpasswd file content */
  htpasswd: string;
  /** The text of assets/hosts-inject.sh */
  hostsScript: string;
}

export interface Manifest {
  /** e.g. '10-secret.yaml'; the prefix sorts files into apply order. */
  file: string;
  object: Record<string, unknown>;
}

export function renderManifests(spec: ClusterSpec, input: ManifestInput): Manifest[] {
  return [
    { file: '00-namespace.yaml', object: namespace() },
    { file: '10-secret.yaml', object: secret(input) },
    { file: '20-deployment.yaml', object: deployment(spec, input) },
    // The Service before the DaemonSet, whose script resolves it.
    { file: '30-service.yaml', object: service() },
    { file: '40-hosts-script.yaml', object: hostsScriptConfigMap(input.hostsScript) },
    { file: '50-hosts-daemonset.yaml', object: hostsDaemonSet(spec, input.hostsScript) },
    { file: '60-local-registry-hosting.yaml', object: localRegistryHosting(spec) },
  ];
}

/** One multi-document YAML stream, for `kubectl apply -f -`; no folding, so the script stays readable. */
export function toYamlDocuments(manifests: Manifest[]): string {
  return yamlStream(manifests.map((m) => toYaml(m.object)));
}
