/**
 * Runs the real registry (the local registry:2 stand-in) with exactly the env, mount paths and
 * Secret contents of a rendered Deployment and Secret; only the image is swapped.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { docker } from './docker.js';
import { ensureRegistryImage } from './images.js';
import { TEST_LABEL } from './labels.js';
import { freePort } from './tools.js';

export { freePort };

export { TEST_LABEL } from './labels.js';
// Rendered Kubernetes objects are plain JSON-shaped data; tests walk them freely.
export type Obj = Record<string, any>;

export interface HttpsReply {
  status: number;
  headers: Obj;
  body: Buffer;
}

/** One HTTPS GET that trusts only `ca`; `servername` picks the name the certificate must carry. */
export function httpsGet(options: { port: number; path: string; ca: string; auth?: string; servername?: string; headers?: Obj }): Promise<HttpsReply> {
  const headers: Obj = { ...(options.headers ?? {}) };
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth, 'utf8').toString('base64')}`;
  const host = options.servername ?? 'localhost';
  if (options.servername) headers.Host = `${options.servername}:${options.port}`;
  return new Promise((resolve, reject) => {
    // Connect to loopback whatever the name: the name only has to match the certificate.
    request({ host: '127.0.0.1', servername: host, port: options.port, path: options.path, ca: options.ca, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error('timeout'));
      })
      .end();
  });
}

/**
 * Starts the registry as the rendered Deployment describes it; returns the published port.
 * `dataVolume` holds the data (a named volume, kept across restarts; else an anonymous one),
 * `extraEnv` is added to the Deployment's env (as `kubectl set env` would), `port` reuses a port.
 */
export async function startRenderedRegistry(options: {
  name: string;
  dir: string;
  deployment: Obj;
  secret: Obj;
  ca: string;
  dataVolume?: string;
  extraEnv?: Record<string, string>;
  port?: number;
}): Promise<number> {
  const pod = options.deployment.spec.template.spec;
  const [container] = pod.containers;
  const mountArgs: string[] = [];
  for (const mount of container.volumeMounts as Obj[]) {
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
    if (volume.secret) {
      // The Secret volume as the kubelet lays it out: each item's key at its path.
      const secretDir = join(options.dir, `secret-${mount.name}`);
      for (const item of volume.secret.items as Obj[]) {
        const file = join(secretDir, item.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, Buffer.from(options.secret.data[item.key], 'base64'));
        // The kubelet makes these files root-owned with defaultMode; a test running as root can do the
        // same. As another user, only world-readable files are readable by a capability-less root.
        chmodSync(file, process.getuid?.() === 0 ? (volume.secret.defaultMode ?? 0o644) : 0o644);
      }
      mountArgs.push('-v', `${secretDir}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
    } else {
      // hostPath data: the given volume, or an anonymous one at the same path, removed with the container.
      mountArgs.push('-v', options.dataVolume ? `${options.dataVolume}:${mount.mountPath}` : mount.mountPath);
    }
  }
  // The container's securityContext, as docker flags, so the test proves the registry works with it.
  const security = container.securityContext ?? {};
  const securityArgs = [
    ...(security.readOnlyRootFilesystem ? ['--read-only'] : []),
    ...((security.capabilities?.drop ?? []) as string[]).flatMap((cap) => ['--cap-drop', cap]),
    ...(security.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
  ];
  const port = options.port ?? (await freePort());
  const env = [...(container.env as Obj[]).map((e) => `${e.name}=${e.value}`), ...Object.entries(options.extraEnv ?? {}).map(([k, v]) => `${k}=${v}`)];
  docker([
    'run', '-d', '--label', TEST_LABEL, '--name', options.name, '-p', `127.0.0.1:${port}:${container.ports[0].containerPort}`,
    ...env.flatMap((e) => ['-e', e]), ...mountArgs, ...securityArgs, ensureRegistryImage(),
  ]);
  for (let waited = 0; (await httpsGet({ port, path: '/', ca: options.ca }).then((r) => r.status, () => 0)) !== 200; waited += 250) {
    if (waited > 30_000) {
      const logs = spawnSync('docker', ['logs', options.name], { encoding: 'utf8' });
      throw new Error(`the registry did not become ready:\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return port;
}
