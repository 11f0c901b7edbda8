/** The registry itself: its Namespace, Secret, Deployment and NodePort Service. */
import { NAMESPACE, NODE_PORT, NODE_REGISTRY_DATA_DIR, REGISTRY_PORT, SERVICE_NAME, type ClusterSpec } from '../../spec.js';
import { sha256 } from '../../hash.js';
import { ANNOTATION_PREFIX, base64, labels, metadata, selectorLabels, type KubeObject } from './common.js';

export const SECRET_NAME = 'registry-tls-auth';
/** Where the Secret's items appear inside the registry container. */
export const SECRET_MOUNT_PATH = '/etc/k3s-devreg-registry';
export const DATA_MOUNT_PATH = '/var/lib/registry';
const COMPONENT = SERVICE_NAME;
/** The registry container's memory limit: what it holds while it serves a push of very large layers. */
export const REGISTRY_MEMORY_LIMIT = '512Mi';

const SECRET_KEYS = ['tls.crt', 'tls.key', 'htpasswd'] as const;

export interface RegistrySecrets {
  tlsCert: string;
  tlsKey: string;
  htpasswd: string;
}

export function namespace(): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: metadata(NAMESPACE, COMPONENT) };
}

export function secret(input: RegistrySecrets): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(SECRET_NAME, COMPONENT, NAMESPACE),
    type: 'Opaque',
    data: { 'tls.crt': base64(input.tlsCert), 'tls.key': base64(input.tlsKey), htpasswd: base64(input.htpasswd) },
  };
}

/**
 * distribution's read-only mode (pulls served, pushes and deletes refused with 405), which `images
 * prune` switches on around the garbage collection. v2.8 reads it from the environment only as a
 * whole map (`..._READONLY_ENABLED=true` panics at start).
 */
export const READ_ONLY_ENV = 'REGISTRY_STORAGE_MAINTENANCE_READONLY';
export const READ_ONLY_VALUE = '{"enabled":true}';
export const WRITABLE_VALUE = '{"enabled":false}';

export function registryEnv(): { name: string; value: string }[] {
  return [
    { name: 'REGISTRY_HTTP_ADDR', value: `:${REGISTRY_PORT}` },
    { name: 'REGISTRY_HTTP_TLS_CERTIFICATE', value: `${SECRET_MOUNT_PATH}/tls.crt` },
    { name: 'REGISTRY_HTTP_TLS_KEY', value: `${SECRET_MOUNT_PATH}/tls.key` },
    { name: 'REGISTRY_AUTH', value: 'htpasswd' },
    { name: 'REGISTRY_AUTH_HTPASSWD_REALM', value: 'k3s-devreg registry' },
    { name: 'REGISTRY_AUTH_HTPASSWD_PATH', value: `${SECRET_MOUNT_PATH}/htpasswd` },
    { name: 'REGISTRY_STORAGE_DELETE_ENABLED', value: 'true' },
    // Rendered (not just absent) so that `kubectl apply` owns it: an apply after an interrupted
    // prune sets it back, whereas a variable only `kubectl set env` added would outlive every apply.
    { name: READ_ONLY_ENV, value: WRITABLE_VALUE },
  ];
}

// The registry answers 200 on / without credentials; the kubelet does not verify the certificate.
const probe = (periodSeconds: number, failureThreshold: number): KubeObject => ({
  httpGet: { path: '/', port: REGISTRY_PORT, scheme: 'HTTPS' },
  periodSeconds,
  failureThreshold,
  timeoutSeconds: 3,
});

export function deployment(spec: ClusterSpec, input: RegistrySecrets): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(SERVICE_NAME, COMPONENT, NAMESPACE),
    spec: {
      replicas: 1,
      // Two registries must never share the hostPath data, even during a rollout.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(COMPONENT) },
      template: {
        metadata: {
          labels: labels(COMPONENT),
          // The registry reads its certificate once at start, and a changed Secret reaches a running
          // pod only after the kubelet's next sync (up to a minute): either change restarts the pod,
          // so a new password works the moment the rollout is done. (The htpasswd line is salted
          // bcrypt, so its sha256 gives nothing to guess a password with.)
          annotations: {
            [`${ANNOTATION_PREFIX}/tls-cert-sha256`]: sha256(input.tlsCert),
            [`${ANNOTATION_PREFIX}/htpasswd-sha256`]: sha256(input.htpasswd),
          },
        },
        spec: {
          // A Service named "registry" would inject REGISTRY_PORT=tcp://... and friends into the
          // registry's configuration namespace (REGISTRY_*); keep its env exactly what is listed here.
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'registry',
              image: spec.registryImage,
              ports: [{ name: 'https', containerPort: REGISTRY_PORT, protocol: 'TCP' }],
              env: registryEnv(),
              volumeMounts: [
                { name: 'tls-auth', mountPath: SECRET_MOUNT_PATH, readOnly: true },
                { name: 'data', mountPath: DATA_MOUNT_PATH },
              ],
              readinessProbe: probe(5, 3),
              livenessProbe: { ...probe(10, 6), initialDelaySeconds: 5 },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: REGISTRY_MEMORY_LIMIT } },
              // The registry writes only its data volume and binds an unprivileged port; as root it
              // still reads its root-owned 0400 Secret files without any capability.
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
          volumes: [
            {
              name: 'tls-auth',
              secret: { secretName: SECRET_NAME, defaultMode: 0o400, items: SECRET_KEYS.map((key) => ({ key, path: key })) },
            },
            // A docker volume mounted into every k3d node: data survives pod moves and `down`/`up`.
            { name: 'data', hostPath: { path: NODE_REGISTRY_DATA_DIR, type: 'DirectoryOrCreate' } },
          ],
        },
      },
    },
  };
}

export function service(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(SERVICE_NAME, COMPONENT, NAMESPACE),
    spec: {
      type: 'NodePort',
      selector: selectorLabels(COMPONENT),
      ports: [{ name: 'https', protocol: 'TCP', port: REGISTRY_PORT, targetPort: REGISTRY_PORT, nodePort: NODE_PORT }],
    },
  };
}
