import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderManifests, toYamlDocuments, type Manifest } from '../../src/render/manifests.js';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_REGISTRY_IMAGE, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type ClusterSpec } from '../../src/spec.js';
import { schemaErrors } from '../helpers/schemas.js';

const spec: ClusterSpec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg',
  registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: DEFAULT_HOSTS_IMAGE, k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: '/home/dev/.k3s-devreg/devreg' };
const hostsScript = readFileSync(new URL('../../assets/hosts-inject.sh', import.meta.url), 'utf8');
const input = { tlsCert: 'CERT-PEM\n', tlsKey: 'KEY-PEM\n', htpasswd: 'devreg:$2y$05$abc\n', hostsScript };
const manifests = renderManifests(spec, input);

type Obj = Record<string, any>;
const find = (kind: string, name: string, from = manifests): Obj =>
  from.find((x) => x.object.kind === kind && (x.object.metadata as Obj).name === name)!.object as Obj;
// DNS-1123 subdomain (names of most objects); the schemas do not check it.
const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('renderManifests', () => {
  it('renders the objects in apply order', () => {
    expect(manifests.map((m) => `${m.file} ${m.object.kind}/${(m.object.metadata as Obj).name}`)).toEqual([
      '00-namespace.yaml Namespace/container-registry',
      '10-secret.yaml Secret/registry-tls-auth',
      '20-deployment.yaml Deployment/registry',
      '30-service.yaml Service/registry',
      '40-hosts-script.yaml ConfigMap/registry-hosts-script',
      '50-hosts-daemonset.yaml DaemonSet/registry-hosts',
      '60-local-registry-hosting.yaml ConfigMap/local-registry-hosting',
    ]);
    expect(manifests.map((m) => m.file)).toEqual(manifests.map((m) => m.file).sort());
  });

  it.each(manifests.map((m) => [m.file, m] as [string, Manifest]))('%s validates against its Kubernetes schema', (_f, m) => {
    expect(schemaErrors(m.object.kind as string, m.object)).toEqual([]);
  });

  it('the validator rejects a broken object', () => {
    const broken = structuredClone(find('Deployment', 'registry'));
    broken.spec.replicas = 'one';
    broken.spec.template.spec.containers[0].imagePullPolicy = 42;
    broken.spec.template.spec.containers[0].portz = [];
    expect(schemaErrors('Deployment', broken).length).toBeGreaterThanOrEqual(3);
    expect(schemaErrors('Service', { ...find('Service', 'registry'), kind: 'Servce' })).not.toEqual([]);
  });

  it('names are DNS-1123', () => {
    for (const m of manifests) {
      const name = (m.object.metadata as Obj).name as string;
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_1123);
    }
    expect('Registry_TLS').not.toMatch(DNS_1123);
  });

  it('labels every object and pod template as ours', () => {
    const labelSets = manifests.map((m) => (m.object.metadata as Obj).labels as Obj);
    labelSets.push(find('Deployment', 'registry').spec.template.metadata.labels, find('DaemonSet', 'registry-hosts').spec.template.metadata.labels);
    expect(labelSets).toHaveLength(9);
    for (const l of labelSets) {
      expect(l).toMatchObject({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'app.kubernetes.io/part-of': 'k3s-devreg' });
      expect(l['app.kubernetes.io/name']).toMatch(DNS_1123);
    }
    // Selectors must match their pod templates, and the Service the registry's.
    for (const o of [find('Deployment', 'registry'), find('DaemonSet', 'registry-hosts')]) {
      expect(o.spec.template.metadata.labels).toMatchObject(o.spec.selector.matchLabels);
    }
    expect(find('Deployment', 'registry').spec.template.metadata.labels).toMatchObject(find('Service', 'registry').spec.selector);
  });

  it('carries the secrets in the Secret, base64-encoded', () => {
    const s = find('Secret', 'registry-tls-auth');
    expect(s.type).toBe('Opaque');
    const decoded = Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(decoded).toEqual({ 'tls.crt': input.tlsCert, 'tls.key': input.tlsKey, htpasswd: input.htpasswd });
  });

  it('runs the registry with exactly its env, the Secret read-only and data on the hostPath', () => {
    const d = find('Deployment', 'registry');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = d.spec.template.spec;
    const [c] = pod.containers;
    expect(c.image).toBe(DEFAULT_REGISTRY_IMAGE);
    const dir = c.volumeMounts.find((v: Obj) => v.name === 'tls-auth').mountPath;
    expect(c.env).toEqual([
      { name: 'REGISTRY_HTTP_ADDR', value: ':5000' },
      { name: 'REGISTRY_HTTP_TLS_CERTIFICATE', value: `${dir}/tls.crt` },
      { name: 'REGISTRY_HTTP_TLS_KEY', value: `${dir}/tls.key` },
      { name: 'REGISTRY_AUTH', value: 'htpasswd' },
      { name: 'REGISTRY_AUTH_HTPASSWD_REALM', value: 'k3s-devreg registry' },
      { name: 'REGISTRY_AUTH_HTPASSWD_PATH', value: `${dir}/htpasswd` },
      { name: 'REGISTRY_STORAGE_DELETE_ENABLED', value: 'true' },
      { name: 'REGISTRY_STORAGE_MAINTENANCE_READONLY', value: '{"enabled":false}' },
    ]);
    expect(pod.enableServiceLinks).toBe(false);
    expect(c.volumeMounts).toEqual([
      { name: 'tls-auth', mountPath: dir, readOnly: true },
      { name: 'data', mountPath: '/var/lib/registry' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'data', hostPath: { path: '/var/lib/k3s-devreg/registry', type: 'DirectoryOrCreate' } });
    expect(pod.volumes.find((v: Obj) => v.name === 'tls-auth').secret.secretName).toBe('registry-tls-auth');
    for (const probe of [c.readinessProbe, c.livenessProbe]) expect(probe.httpGet).toEqual({ path: '/', port: 5000, scheme: 'HTTPS' });
    expect(Object.keys(c.resources.requests)).toEqual(['cpu', 'memory']);
    expect(Object.keys(c.resources.limits)).toEqual(['memory']);
  });

  it('runs both containers without privileges: no escalation, no capabilities, read-only root', () => {
    for (const [kind, name] of [['Deployment', 'registry'], ['DaemonSet', 'registry-hosts']] as const) {
      for (const c of find(kind, name).spec.template.spec.containers as Obj[]) {
        expect(c.securityContext, `${kind}/${name} ${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('exposes the registry on NodePort 31113', () => {
    const s = find('Service', 'registry');
    expect(s.metadata.namespace).toBe('container-registry');
    expect(s.spec.type).toBe('NodePort');
    expect(s.spec.ports).toEqual([{ name: 'https', protocol: 'TCP', port: 5000, targetPort: 5000, nodePort: 31113 }]);
  });

  it('runs the hosts script on every node, control plane included', () => {
    const pod = find('DaemonSet', 'registry-hosts').spec.template.spec;
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const [c] = pod.containers;
    expect(c.image).toBe(DEFAULT_HOSTS_IMAGE);
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'REGISTRY_SERVICE', value: 'registry.container-registry.svc.cluster.local' },
      { name: 'REGISTRY_ALIAS', value: 'container-registry.local' },
      // The kubelet expands it from the Service's environment variables, which need service links on.
      { name: 'FALLBACK_IP', value: '$(REGISTRY_SERVICE_HOST)' },
      { name: 'INTERVAL', value: '2' },
    ]));
    expect(pod.enableServiceLinks).toBe(true);
    expect(pod.volumes).toContainEqual({ name: 'etc-hosts', hostPath: { path: '/etc/hosts', type: 'File' } });
    expect(c.volumeMounts).toContainEqual({ name: 'etc-hosts', mountPath: '/host/etc/hosts' });
    expect(c.resources.requests).toHaveProperty('memory');
    // The command runs the script from the ConfigMap mount, whose content is the asset byte for byte.
    const scriptMount = c.volumeMounts.find((v: Obj) => v.name === 'script').mountPath;
    expect(c.command).toEqual(['sh', `${scriptMount}/hosts-inject.sh`]);
    expect(pod.volumes.find((v: Obj) => v.name === 'script').configMap.name).toBe('registry-hosts-script');
    expect(find('ConfigMap', 'registry-hosts-script').data['hosts-inject.sh']).toBe(hostsScript);
  });

  it('rolls the DaemonSet when the script changes, the registry when its certificate or htpasswd does', () => {
    const annotations = (kind: string, name: string, from = manifests): Obj => find(kind, name, from).spec.template.metadata.annotations;
    const script = renderManifests(spec, { ...input, hostsScript: `${hostsScript}# changed\n` });
    const cert = renderManifests(spec, { ...input, tlsCert: 'NEW-CERT-PEM\n' });
    expect(Object.keys(annotations('DaemonSet', 'registry-hosts'))).toHaveLength(1);
    expect(annotations('DaemonSet', 'registry-hosts', script)).not.toEqual(annotations('DaemonSet', 'registry-hosts'));
    expect(annotations('Deployment', 'registry', script)).toEqual(annotations('Deployment', 'registry'));
    expect(annotations('Deployment', 'registry', cert)).not.toEqual(annotations('Deployment', 'registry'));
    // A new password reaches the running registry only through a restart that up waits for.
    const password = renderManifests(spec, { ...input, htpasswd: 'devreg:$2y$05$anotherhashanotherhashanotherhashanotherhashanotherhas\n' });
    expect(annotations('Deployment', 'registry', password)).not.toEqual(annotations('Deployment', 'registry'));
    expect(JSON.stringify(annotations('Deployment', 'registry'))).not.toContain(input.htpasswd.trim());
  });

  it('advertises the registry per KEP-1755', () => {
    const cm = find('ConfigMap', 'local-registry-hosting');
    expect(cm.metadata.namespace).toBe('kube-public');
    expect(Object.keys(cm.data)).toEqual(['localRegistryHosting.v1']);
    expect(parse(cm.data['localRegistryHosting.v1'])).toEqual({
      host: 'localhost:31113',
      hostFromClusterNetwork: 'registry.container-registry.svc.cluster.local:5000',
      hostFromContainerRuntime: 'localhost:31113',
      help: 'https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry',
    });
    const other = find('ConfigMap', 'local-registry-hosting', renderManifests({ ...spec, hostPort: 5555 }, input));
    expect(parse(other.data['localRegistryHosting.v1'])).toMatchObject({ host: 'localhost:5555', hostFromContainerRuntime: 'localhost:5555' });
  });

  it('is deterministic, and toYamlDocuments round-trips every object', () => {
    expect(renderManifests({ ...spec }, { ...input })).toEqual(manifests);
    expect(toYamlDocuments(renderManifests(spec, input))).toBe(toYamlDocuments(manifests));
    expect(parseAllDocuments(toYamlDocuments(manifests)).map((d) => d.toJS())).toEqual(manifests.map((m) => m.object));
    expect(toYamlDocuments(manifests)).toContain('  hosts-inject.sh: |\n    #!/bin/sh\n'); // a literal block, not folded
  });
});
