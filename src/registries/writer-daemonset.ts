/**
 * Manifests that put a registries.yaml (and a CA) on every node of an existing k3s cluster: a Secret
 * with the content, a ConfigMap with assets/registries-writer.sh (and which program each node runs),
 * and a DaemonSet whose init container runs the script against the host's /etc/rancher and exits: the
 * script finds there the file k3s or RKE2 reads (config.yaml and config.yaml.d, see the script). A tiny container (the same image,
 * asleep) then holds the pod, and its readiness probe (`registries-writer.sh check`, read-only) says
 * every 10s whether the host file still matches the Secret: `registries status` reads pod readiness.
 * Pure: the caller reads the script and supplies the salt.
 */
import { DEFAULT_WRITER_IMAGE, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NODE_CONFIG_DIR } from '../spec.js';
import { sha256 } from '../hash.js';
import { base64 } from '../render/manifests/common.js';
import { toYaml, yamlStream } from '../render/yaml-stream.js';

/** kube-system: hardened k3s (CIS profile) exempts it from Pod Security admission, which a hostPath pod needs. */
export const WRITER_NAMESPACE = 'kube-system';
export const WRITER_NAME = 'k3s-devreg-registries';
export const WRITER_SELECTOR = { 'app.kubernetes.io/name': WRITER_NAME };
export const WRITER_INIT_CONTAINER = 'writer';
/** The long-running container whose readiness probe compares the host file with the Secret. */
export const WRITER_CHECK_CONTAINER = 'check';
export const CHECK_PERIOD_SECONDS = 10;
export const ANNOTATION_REGISTRIES = 'dev.k3s-devreg/registries-checksum';
export const ANNOTATION_CA = 'dev.k3s-devreg/ca-checksum';
const ANNOTATION_SCRIPT = 'dev.k3s-devreg/script-checksum';
const ANNOTATION_NODES = 'dev.k3s-devreg/nodes-checksum';
/** Host folder of both k3s's and RKE2's configuration (/etc/rancher/k3s, /etc/rancher/rke2). */
export const HOST_RANCHER_DIR = '/etc/rancher';

export interface RegistriesWriterSpec {
  /** The exact file for the nodes (holds secrets). */
  registriesYaml: string;
  /** The same file with secret values replaced: the script shows it as the new side of its diff. */
  redactedYaml: string;
  caCert?: string;
  /** Random, kept across applies: makes the checksums useless for guessing a password. */
  salt: string;
  writerScript: string;
  writerImage?: string;
  /**
   * `NODE DISTRIBUTION PATH` lines (src/registries/node-targets.ts) that `registries apply` learns from
   * the cluster; empty for `registries render`, whose writer then tells from the host alone.
   */
  nodeTable?: string;
}

export interface RenderedRegistriesWriter {
  secret: Record<string, unknown>;
  configMap: Record<string, unknown>;
  daemonSet: Record<string, unknown>;
  /** The checksum each node reports for a matching file (sha256 of salt + content). */
  registriesChecksum: string;
}

const labels = { ...WRITER_SELECTOR, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
const metadata = (name: string) => ({ name, namespace: WRITER_NAMESPACE, labels });
const locked = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const SCRIPT_DIR = '/run/k3s-devreg/bin';
const SCRIPT = `${SCRIPT_DIR}/registries-writer.sh`;
const nodeNameEnv = [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }];

export const registriesChecksum = (salt: string, registriesYaml: string): string => sha256(salt + registriesYaml);

export function renderRegistriesWriter(spec: RegistriesWriterSpec): RenderedRegistriesWriter {
  const data: Record<string, string> = {
    'registries.yaml': base64(spec.registriesYaml),
    'registries.redacted.yaml': base64(spec.redactedYaml),
    salt: base64(spec.salt),
  };
  if (spec.caCert !== undefined) data['ca.crt'] = base64(spec.caCert);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: metadata(WRITER_NAME), type: 'Opaque', data };
  const nodeTable = spec.nodeTable ?? '';
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(`${WRITER_NAME}-writer`),
    data: { 'registries-writer.sh': spec.writerScript, nodes: nodeTable },
  };
  const checksum = registriesChecksum(spec.salt, spec.registriesYaml);
  const hasCa = spec.caCert !== undefined;
  const readOnly = [
    { name: 'config', mountPath: '/run/k3s-devreg/config', readOnly: true },
    { name: 'script', mountPath: SCRIPT_DIR, readOnly: true },
  ];
  const mounts = [
    ...readOnly,
    { name: 'host-rancher', mountPath: `/host${HOST_RANCHER_DIR}` },
    { name: 'tmp', mountPath: '/tmp' },
    ...(hasCa ? [{ name: 'host-ca', mountPath: `/host${NODE_CONFIG_DIR}` }] : []),
  ];
  const image = spec.writerImage ?? DEFAULT_WRITER_IMAGE;
  // spc_t: on nodes where SELinux is enforced (k3s --selinux on RHEL-family hosts) a container_t
  // process may not touch the host's /etc; elsewhere the option is ignored.
  const rootNoCapabilities = { ...locked, runAsUser: 0, runAsGroup: 0, seLinuxOptions: { type: 'spc_t' } };
  const volumes = [
    { name: 'config', secret: { secretName: WRITER_NAME, defaultMode: 0o400 } },
    { name: 'script', configMap: { name: `${WRITER_NAME}-writer`, defaultMode: 0o555 } },
    // The folder, not /etc/rancher/k3s: the file may be RKE2's, or another one under it (private-registry).
    { name: 'host-rancher', hostPath: { path: HOST_RANCHER_DIR, type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ...(hasCa ? [{ name: 'host-ca', hostPath: { path: NODE_CONFIG_DIR, type: 'DirectoryOrCreate' } }] : []),
  ];
  const writer = {
    name: WRITER_INIT_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', SCRIPT],
    env: nodeNameEnv,
    volumeMounts: mounts,
    // The script's summary line, or on failure its last log lines: `registries status` reads it from the pod.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // Root only to write root-owned files on the host; no capabilities beyond that.
    securityContext: rootNoCapabilities,
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
  };
  const check = {
    name: WRITER_CHECK_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    // Sleeps; PID 1 ignores SIGTERM unless trapped, and `wait` lets the trap run at once.
    command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
    // The probe finds the node's line in the node table by name, as the writer does.
    env: nodeNameEnv,
    readinessProbe: {
      exec: { command: ['sh', SCRIPT, 'check'] },
      periodSeconds: CHECK_PERIOD_SECONDS,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold: 1,
    },
    // Reads only: the host folders are mounted read-only here.
    volumeMounts: [
      ...readOnly,
      { name: 'host-rancher', mountPath: `/host${HOST_RANCHER_DIR}`, readOnly: true },
      ...(hasCa ? [{ name: 'host-ca', mountPath: `/host${NODE_CONFIG_DIR}`, readOnly: true }] : []),
    ],
    // Root (no capabilities) only to read the 0600 host file and the 0400 Secret files.
    securityContext: rootNoCapabilities,
    resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { memory: '16Mi' } },
  };
  const annotations = {
    [ANNOTATION_REGISTRIES]: checksum,
    [ANNOTATION_CA]: hasCa ? sha256(spec.caCert ?? '') : 'none',
    [ANNOTATION_SCRIPT]: sha256(spec.writerScript),
    // A node's program or file changed (k3s restarted with another private-registry): write again.
    [ANNOTATION_NODES]: sha256(nodeTable),
  };
  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata(WRITER_NAME),
    spec: {
      selector: { matchLabels: WRITER_SELECTOR },
      // The pods only check once written, so all nodes may roll at once.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels, annotations },
        spec: {
          tolerations: [{ operator: 'Exists' }],
          priorityClassName: 'system-node-critical',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          initContainers: [writer],
          containers: [check],
          volumes,
        },
      },
    },
  };
  return { secret, configMap, daemonSet, registriesChecksum: checksum };
}

export const manifestsYaml = (objects: Record<string, unknown>[]): string => yamlStream(objects.map(toYaml), 'between');

/** One multi-document YAML for `kubectl apply -f -`; the Secret first so the pods find it. */
export const registriesWriterYaml = (r: RenderedRegistriesWriter): string => manifestsYaml([r.secret, r.configMap, r.daemonSet]);
