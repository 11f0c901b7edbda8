/** The writer manifests for existing k3s clusters, checked against the Kubernetes v1.31 schemas. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_CA,
  ANNOTATION_REGISTRIES,
  registriesWriterYaml,
  renderRegistriesWriter,
  type RegistriesWriterSpec,
} from '../../src/registries/writer-daemonset.js';
import { schemaErrors } from '../helpers/schemas.js';

const script = readFileSync(new URL('../../assets/registries-writer.sh', import.meta.url), 'utf8');
const SECRET = 'pa55word-in-the-secret-only';
const spec: RegistriesWriterSpec = {
  registriesYaml: `configs:\n  r:\n    auth:\n      password: ${SECRET}\n`,
  redactedYaml: 'configs:\n  r:\n    auth:\n      password: <REDACTED>\n',
  salt: 'f'.repeat(64),
  writerScript: script,
};
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const decode = (value: string) => Buffer.from(value, 'base64').toString('utf8');

describe('renderRegistriesWriter', () => {
  const rendered = renderRegistriesWriter(spec);
  const ds = rendered.daemonSet as Obj;
  const pod = ds.spec.template.spec;

  it.each([
    ['Secret', rendered.secret],
    ['ConfigMap', rendered.configMap],
    ['DaemonSet', rendered.daemonSet],
  ])('renders a %s that validates against the Kubernetes schema', (kind, object) => {
    expect(schemaErrors(kind, object)).toStrictEqual([]);
  });

  it('also validates with a CA and custom images', () => {
    const withCa = renderRegistriesWriter({ ...spec, caCert: '-----BEGIN CERTIFICATE-----\nx\n', writerImage: 'w:1' });
    expect(schemaErrors('DaemonSet', withCa.daemonSet)).toStrictEqual([]);
    const podSpec = (withCa.daemonSet as Obj).spec.template.spec;
    expect([...podSpec.initContainers, ...podSpec.containers].map((c: Obj) => c.image)).toStrictEqual(['w:1', 'w:1']);
    expect(schemaErrors('Secret', withCa.secret)).toStrictEqual([]);
  });

  it('labels every object as ours, in kube-system', () => {
    for (const object of [rendered.secret, rendered.configMap, rendered.daemonSet, ds.spec.template] as Obj[]) {
      expect(object.metadata.labels['app.kubernetes.io/managed-by']).toBe('k3s-devreg');
      // The README's removal command selects by this label.
      expect(object.metadata.labels['app.kubernetes.io/name']).toBe('k3s-devreg-registries');
    }
    expect((rendered.secret as Obj).metadata.namespace).toBe('kube-system');
  });

  it('runs on every node, tolerating every taint, and writes the host file from an init container', () => {
    expect(pod.tolerations).toStrictEqual([{ operator: 'Exists' }]);
    expect(pod.initContainers.map((c: Obj) => c.image)).toStrictEqual(['busybox:1.36.1']);
    expect(pod.containers.map((c: Obj) => c.image)).toStrictEqual(['busybox:1.36.1']);
    // /etc/rancher, not /etc/rancher/k3s: the file may be RKE2's, or another private-registry under it.
    expect(pod.volumes).toContainEqual({ name: 'host-rancher', hostPath: { path: '/etc/rancher', type: 'DirectoryOrCreate' } });
    expect(pod.initContainers[0].volumeMounts).toContainEqual({ name: 'host-rancher', mountPath: '/host/etc/rancher' });
    expect(pod.volumes.find((v: Obj) => v.name === 'host-ca')).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.initContainers[0].securityContext.capabilities).toStrictEqual({ drop: ['ALL'] });
    // SELinux-enforcing k3s nodes forbid container_t from touching the host's /etc.
    for (const c of [...pod.initContainers, ...pod.containers]) expect(c.securityContext.seLinuxOptions).toStrictEqual({ type: 'spc_t' });
  });

  it('keeps a tiny container whose readiness probe checks, every 10s, that the host file still matches the Secret', () => {
    const [check] = pod.containers as Obj[];
    expect(check!.name).toBe('check');
    expect(check!.readinessProbe).toStrictEqual({
      exec: { command: ['sh', '/run/k3s-devreg/bin/registries-writer.sh', 'check'] },
      periodSeconds: 10,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold: 1,
    });
    // It only reads: the host folders and the Secret are mounted read-only, and it has no /tmp.
    expect(check!.volumeMounts).toStrictEqual([
      { name: 'config', mountPath: '/run/k3s-devreg/config', readOnly: true },
      { name: 'script', mountPath: '/run/k3s-devreg/bin', readOnly: true },
      { name: 'host-rancher', mountPath: '/host/etc/rancher', readOnly: true },
    ]);
    const withCa = (renderRegistriesWriter({ ...spec, caCert: 'ca' }).daemonSet as Obj).spec.template.spec;
    expect(withCa.containers[0].volumeMounts).toContainEqual({ name: 'host-ca', mountPath: '/host/etc/k3s-devreg', readOnly: true });
    expect(check!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(check!.resources).toStrictEqual({ requests: { cpu: '1m', memory: '8Mi' }, limits: { memory: '16Mi' } });
    // A shell that sleeps, and ends at once on SIGTERM (PID 1 ignores it unless trapped).
    expect(check!.command).toStrictEqual(['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]);
  });

  it('keeps the file and a pre-redacted copy in a Secret, and no secret anywhere else', () => {
    const data = (rendered.secret as Obj).data as Record<string, string>;
    expect(decode(data['registries.yaml']!)).toBe(spec.registriesYaml);
    expect(decode(data['registries.redacted.yaml']!)).not.toContain(SECRET);
    expect(JSON.stringify([rendered.configMap, rendered.daemonSet])).not.toContain(SECRET);
    expect((rendered.configMap as Obj).data['registries-writer.sh']).toBe(script);
  });

  it('rolls the pods when the content, the CA or the script changes, and only then', () => {
    const annotations = (s: RegistriesWriterSpec) => (renderRegistriesWriter(s).daemonSet as Obj).spec.template.metadata.annotations;
    const before = annotations(spec);
    expect(annotations({ ...spec })).toStrictEqual(before);
    expect(annotations({ ...spec, registriesYaml: `${spec.registriesYaml}#\n` })[ANNOTATION_REGISTRIES]).not.toBe(before[ANNOTATION_REGISTRIES]);
    expect(annotations({ ...spec, caCert: 'ca' })[ANNOTATION_CA]).not.toBe(before[ANNOTATION_CA]);
    expect(annotations({ ...spec, writerScript: `${script}\n` })).not.toStrictEqual(before);
  });

  it('salts the checksum, so it cannot confirm a guessed password', () => {
    const plain = createHash('sha256').update(spec.registriesYaml).digest('hex');
    expect(rendered.registriesChecksum).not.toBe(plain);
    expect(rendered.registriesChecksum).toBe(createHash('sha256').update(spec.salt + spec.registriesYaml).digest('hex'));
  });

  it('mounts the CA folder only when there is a CA', () => {
    const withCa = (renderRegistriesWriter({ ...spec, caCert: 'ca' }).daemonSet as Obj).spec.template.spec;
    expect(withCa.volumes).toContainEqual({ name: 'host-ca', hostPath: { path: '/etc/k3s-devreg', type: 'DirectoryOrCreate' } });
    expect(withCa.initContainers[0].volumeMounts).toContainEqual({ name: 'host-ca', mountPath: '/host/etc/k3s-devreg' });
  });

  it('prints one multi-document YAML, Secret first', () => {
    const docs = parseAllDocuments(registriesWriterYaml(rendered)).map((d) => d.toJS() as Obj);
    expect(docs.map((d) => d.kind)).toStrictEqual(['Secret', 'ConfigMap', 'DaemonSet']);
    expect(docs[2]).toStrictEqual(rendered.daemonSet);
    // Shared objects (labels, mounts, security contexts) are written out in full, never as YAML aliases.
    expect(registriesWriterYaml(rendered)).not.toMatch(/[&*]a\d+\b/);
  });

  it('ships the node table next to the script, tells both containers their node, and rolls the pods when the table changes', () => {
    const table = 'n1 k3s /etc/rancher/k3s/registries.yaml\nn2 rke2 -\n';
    const withTable = renderRegistriesWriter({ ...spec, nodeTable: table });
    expect((withTable.configMap as Obj).data).toStrictEqual({ 'registries-writer.sh': script, nodes: table });
    expect((rendered.configMap as Obj).data.nodes).toBe('');
    const podSpec = (withTable.daemonSet as Obj).spec.template.spec;
    for (const c of [...podSpec.initContainers, ...podSpec.containers]) {
      expect(c.env).toStrictEqual([{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    }
    const annotations = (r: typeof rendered) => (r.daemonSet as Obj).spec.template.metadata.annotations;
    expect(annotations(withTable)).not.toStrictEqual(annotations(rendered));
    expect(annotations(renderRegistriesWriter({ ...spec, nodeTable: table }))).toStrictEqual(annotations(withTable));
    expect(schemaErrors('ConfigMap', withTable.configMap)).toStrictEqual([]);
  });
});
