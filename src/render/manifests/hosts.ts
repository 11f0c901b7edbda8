/**
 * The registry-hosts DaemonSet: on every node it maps container-registry.local to the registry
 * Service's ClusterIP in /etc/hosts, because containerd resolves through the node, not cluster DNS.
 */
import { NAMESPACE, REGISTRY_HOST, SERVICE_NAME, type ClusterSpec } from '../../spec.js';
import { sha256 } from '../../hash.js';
import { ANNOTATION_PREFIX, labels, metadata, selectorLabels, type KubeObject } from './common.js';

export const HOSTS_NAME = 'registry-hosts';
export const HOSTS_SCRIPT_CONFIGMAP = 'registry-hosts-script';
export const HOSTS_SCRIPT_KEY = 'hosts-inject.sh';
const SCRIPT_DIR = '/opt/k3s-devreg';
const COMPONENT = HOSTS_NAME;

export function hostsScriptConfigMap(script: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(HOSTS_SCRIPT_CONFIGMAP, COMPONENT, NAMESPACE),
    data: { [HOSTS_SCRIPT_KEY]: script },
  };
}

export function hostsDaemonSet(spec: ClusterSpec, script: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata(HOSTS_NAME, COMPONENT, NAMESPACE),
    spec: {
      selector: { matchLabels: selectorLabels(COMPONENT) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: labels(COMPONENT),
          // A ConfigMap change alone does not restart pods; a changed script must roll them.
          annotations: { [`${ANNOTATION_PREFIX}/hosts-script-sha256`]: sha256(script) },
        },
        spec: {
          // Every node needs the entry, control-plane nodes with their taints included.
          tolerations: [{ operator: 'Exists' }],
          // On: the kubelet puts the registry Service's address into the pod's environment
          // (REGISTRY_SERVICE_HOST), which needs no cluster DNS right after a node restart.
          enableServiceLinks: true,
          automountServiceAccountToken: false,
          // The script traps SIGTERM, so pods stop at once.
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'hosts-inject',
              image: spec.hostsImage,
              command: ['sh', `${SCRIPT_DIR}/${HOSTS_SCRIPT_KEY}`],
              env: [
                // Fully qualified: the script queries it with a trailing dot, bypassing search domains.
                { name: 'REGISTRY_SERVICE', value: `${SERVICE_NAME}.${NAMESPACE}.svc.cluster.local` },
                { name: 'REGISTRY_ALIAS', value: REGISTRY_HOST },
                { name: 'HOSTS_FILE', value: '/host/etc/hosts' },
                // $(...) is expanded by the kubelet from the service environment variables.
                { name: 'FALLBACK_IP', value: `$(${SERVICE_NAME.toUpperCase().replaceAll('-', '_')}_SERVICE_HOST)` },
                // A line lost to a rewrite of the file is back within this many seconds.
                { name: 'INTERVAL', value: '2' },
              ],
              volumeMounts: [
                { name: 'script', mountPath: SCRIPT_DIR, readOnly: true },
                { name: 'etc-hosts', mountPath: '/host/etc/hosts' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
              // Ready only while this node's hosts file holds the right line: the DaemonSet's status then
              // says whether every node has it, and a no-op `up` need not look into each node.
              readinessProbe: { exec: { command: ['sh', `${SCRIPT_DIR}/${HOSTS_SCRIPT_KEY}`, 'check'] }, periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 1 },
              resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '32Mi' } },
              // Root only because the node's hosts file is root's; it needs no capability to write it.
              securityContext: {
                runAsUser: 0,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
          volumes: [
            { name: 'script', configMap: { name: HOSTS_SCRIPT_CONFIGMAP, defaultMode: 0o555 } },
            // A single file that docker bind-mounts into the node; type File refuses to create one.
            { name: 'etc-hosts', hostPath: { path: '/etc/hosts', type: 'File' } },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          ],
        },
      },
    },
  };
}
