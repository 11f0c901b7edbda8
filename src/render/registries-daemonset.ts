/**
 * Manifests that put a registries.yaml (and a CA) on every node of an existing k3s cluster: a Secret
 * with the content, a ConfigMap with assets/registries-writer.sh, and a DaemonSet whose init container
 * runs the script against the host's /etc/rancher/k3s and exits; a pause container then holds the pod.
 * Pure: the caller reads the script and supplies the salt.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';

/** kube-system: hardened k3s (CIS profile) exempts it from Pod Security admission, which a hostPath pod needs. */
export const WRITER_NAMESPACE = 'kube-system';
export const WRITER_NAME = 'k3s-devreg-registries';
export const WRITER_SELECTOR = { 'app.kubernetes.io/name': WRITER_NAME };
export const WRITER_INIT_CONTAINER = 'writer';
export const DEFAULT_WRITER_IMAGE = 'busybox:1.36.1';
/** The sandbox image k3s itself uses, so every node already has it. */
export const DEFAULT_PAUSE_IMAGE = 'rancher/mirrored-pause:3.6';
/** Where the CA lands on each host: the same path as on k3d nodes (NODE_CONFIG_DIR), so ca_file works on both. */
export const HOST_CA_DIR = '/etc/k3s-devreg';
export const HOST_CA_FILE = `${HOST_CA_DIR}/ca.crt`;
export const ANNOTATION_REGISTRIES = 'dev.k3s-devreg/registries-checksum';
export const ANNOTATION_CA = 'dev.k3s-devreg/ca-checksum';
const ANNOTATION_SCRIPT = 'dev.k3s-devreg/script-checksum';

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
  pauseImage?: string;
}

export interface RenderedRegistriesWriter {
  secret: Record<string, unknown>;
  configMap: Record<string, unknown>;
  daemonSet: Record<string, unknown>;
  /** The checksum each node reports for a matching file (sha256 of salt + content). */
  registriesChecksum: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const labels = { ...WRITER_SELECTOR, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
const metadata = (name: string) => ({ name, namespace: WRITER_NAMESPACE, labels });
const locked = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

export const registriesChecksum = (salt: string, registriesYaml: string): string => sha256(salt + registriesYaml);

export function renderRegistriesWriter(spec: RegistriesWriterSpec): RenderedRegistriesWriter {
  const data: Record<string, string> = {
    'registries.yaml': base64(spec.registriesYaml),
    'registries.redacted.yaml': base64(spec.redactedYaml),
    salt: base64(spec.salt),
  };
  if (spec.caCert !== undefined) data['ca.crt'] = base64(spec.caCert);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: metadata(WRITER_NAME), type: 'Opaque', data };
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(`${WRITER_NAME}-writer`), data: { 'registries-writer.sh': spec.writerScript } };
  const checksum = registriesChecksum(spec.salt, spec.registriesYaml);
  const hasCa = spec.caCert !== undefined;
  const mounts = [
    { name: 'config', mountPath: '/run/k3s-devreg/config', readOnly: true },
    { name: 'script', mountPath: '/run/k3s-devreg/bin', readOnly: true },
    { name: 'host-k3s', mountPath: '/host/etc/rancher/k3s' },
    { name: 'tmp', mountPath: '/tmp' },
    ...(hasCa ? [{ name: 'host-ca', mountPath: `/host${HOST_CA_DIR}` }] : []),
  ];
  const volumes = [
    { name: 'config', secret: { secretName: WRITER_NAME, defaultMode: 0o400 } },
    { name: 'script', configMap: { name: `${WRITER_NAME}-writer`, defaultMode: 0o555 } },
    { name: 'host-k3s', hostPath: { path: '/etc/rancher/k3s', type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ...(hasCa ? [{ name: 'host-ca', hostPath: { path: HOST_CA_DIR, type: 'DirectoryOrCreate' } }] : []),
  ];
  const writer = {
    name: WRITER_INIT_CONTAINER,
    image: spec.writerImage ?? DEFAULT_WRITER_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '/run/k3s-devreg/bin/registries-writer.sh'],
    env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    volumeMounts: mounts,
    // The script's summary line, or on failure its last log lines: `registries status` reads it from the pod.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // Root only to write root-owned files on the host; no capabilities beyond that.
    securityContext: { ...locked, runAsUser: 0, runAsGroup: 0 },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
  };
  const pause = {
    name: 'pause',
    image: spec.pauseImage ?? DEFAULT_PAUSE_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    securityContext: { ...locked, runAsNonRoot: true, runAsUser: 65535, runAsGroup: 65535 },
    resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { memory: '16Mi' } },
  };
  const annotations = {
    [ANNOTATION_REGISTRIES]: checksum,
    [ANNOTATION_CA]: hasCa ? sha256(spec.caCert ?? '') : 'none',
    [ANNOTATION_SCRIPT]: sha256(spec.writerScript),
  };
  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata(WRITER_NAME),
    spec: {
      selector: { matchLabels: WRITER_SELECTOR },
      // The pods do nothing once written, so all nodes may roll at once.
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
          containers: [pause],
          volumes,
        },
      },
    },
  };
  return { secret, configMap, daemonSet, registriesChecksum: checksum };
}

export const manifestsYaml = (objects: Record<string, unknown>[]): string =>
  objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');

/** One multi-document YAML for `kubectl apply -f -`; the Secret first so the pods find it. */
export const registriesWriterYaml = (r: RenderedRegistriesWriter): string => manifestsYaml([r.secret, r.configMap, r.daemonSet]);
