/**
 * One cluster's worth of the node tier: the state folder rendered by `renderState`, the registry
 * running from the rendered Deployment and Secret on a docker network under the Service's DNS
 * name, an image pushed from "the laptop", and a stand-in k3s node (k3s-node.ts) on that network.
 * Everything carries the test label and is removed by `teardown`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_K3S_IMAGE } from '../../src/spec.js';
import { renderState, type RenderResult } from '../../src/steps/render-state.js';
import { createRunner } from '../../src/tools/run.js';
import { docker } from './docker.js';
import { ensureBusyboxImage } from './images.js';
import { buildNodeImage, K3sNode } from './k3s-node.js';
import { httpsGet, startRenderedRegistry, TEST_LABEL, type Obj } from './registry-container.js';

export const REGISTRY = 'container-registry.local:5000';
const readYaml = (path: string): Obj => parse(readFileSync(path, 'utf8'), { version: '1.1' }) as Obj;

export class NodeTestbed {
  readonly suffix = randomBytes(4).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-node-tier-'));
  readonly network = `k3s-devreg-test-node-net-${this.suffix}`;
  readonly registry = `k3s-devreg-test-node-registry-${this.suffix}`;
  readonly nodeImage = `k3s-devreg-test/node-${this.suffix}:containerd`;
  readonly stateDir = join(this.dir, 'state');
  private readonly images: string[] = [];
  private readonly nodes: K3sNode[] = [];
  render!: RenderResult;
  port = 0;
  manifests: Obj[] = [];

  async renderState(password: string, registriesFile?: string): Promise<RenderResult> {
    this.render = await renderState({
      spec: { name: 'devreg', agents: 1, hostPort: 31113, username: 'team-user', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: DEFAULT_K3S_IMAGE, stateDir: this.stateDir },
      password,
      ...(registriesFile ? { registriesFile } : {}),
      strict: true,
      runner: createRunner(),
      env: {},
    });
    this.manifests = this.render.files.manifests.map(readYaml);
    return this.render;
  }

  manifest(kind: string, name?: string): Obj {
    return this.manifests.find((m) => m.kind === kind && (!name || m.metadata.name === name))!;
  }

  async setup(password: string, registriesFile?: string): Promise<void> {
    await this.renderState(password, registriesFile);
    docker(['network', 'create', '--label', TEST_LABEL, this.network]);
    const ca = readFileSync(this.render.files.caCert, 'utf8');
    this.port = await startRenderedRegistry({ name: this.registry, dir: this.dir, deployment: this.manifest('Deployment'), secret: this.manifest('Secret'), ca });
    // The Service's DNS name, as cluster DNS would answer it for the hosts script.
    docker(['network', 'connect', '--alias', this.serviceName(), this.network, this.registry]);
    buildNodeImage(this.nodeImage);
    this.images.push(this.nodeImage);
  }

  serviceName(): string {
    const [container] = this.manifest('DaemonSet').spec.template.spec.containers;
    return (container.env as Obj[]).find((e) => e.name === 'REGISTRY_SERVICE')!.value;
  }

  /** The registry's address on the network, which the hosts line must name. */
  registryIp(): string {
    return docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${this.network}").IPAddress}}`, this.registry]);
  }

  /** The kubelet's update of the Secret volume: the registry re-reads htpasswd when it changes. */
  updateRegistrySecret(): void {
    const secret = this.manifest('Secret');
    const volume = (this.manifest('Deployment').spec.template.spec.volumes as Obj[]).find((v) => v.secret)!;
    const mount = (this.manifest('Deployment').spec.template.spec.containers[0].volumeMounts as Obj[]).find((m) => m.name === volume.name)!;
    for (const item of volume.secret.items as Obj[]) {
      writeFileSync(join(this.dir, `secret-${mount.name}`, item.path), Buffer.from(secret.data[item.key], 'base64'));
    }
  }

  async registryReady(): Promise<void> {
    const ca = readFileSync(this.render.files.caCert, 'utf8');
    await expectEventually(async () => (await httpsGet({ port: this.port, path: '/', ca })).status === 200, 'the registry to answer');
  }

  /** "The laptop": docker login with the saved credentials (password on stdin), tag, push; returns the digest. */
  push(image: string, repository: string): string {
    const config = join(this.dir, 'docker-config');
    mkdirSync(config, { recursive: true });
    const laptop = (args: string[], input?: string) => {
      const r = spawnSync('docker', args, { input, encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: config } });
      if (r.status !== 0) throw new Error(`docker ${args[0]} failed: ${r.stderr}`);
      return r.stdout;
    };
    const saved = JSON.parse(readFileSync(this.render.files.credentials, 'utf8')) as { username: string; password: string };
    laptop(['login', `localhost:${this.port}`, '-u', saved.username, '--password-stdin'], saved.password);
    const target = `localhost:${this.port}/${repository}`;
    laptop(['tag', image, target]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(laptop(['push', target]))?.[1] ?? '';
    laptop(['rmi', target]);
    return digest;
  }

  /** A second small image, different from busybox (for telling two pulls apart). */
  buildVariantImage(): string {
    const tag = `k3s-devreg-test/variant-${this.suffix}:1`;
    const context = mkdtempSync(join(this.dir, 'variant-'));
    writeFileSync(join(context, 'Dockerfile'), `FROM ${ensureBusyboxImage()}\nLABEL dev.k3s-devreg/variant=${this.suffix}\n`);
    docker(['build', '-q', '--label', TEST_LABEL, '-t', tag, context]);
    this.images.push(tag);
    return tag;
  }

  startNode(name = `k3s-devreg-test-node-${this.suffix}`): K3sNode {
    const hostsScript = this.manifest('ConfigMap', 'registry-hosts-script').data['hosts-inject.sh'] as string;
    const node = K3sNode.start({
      name, image: this.nodeImage, network: this.network, dir: this.dir, hostsScript,
      k3dConfig: readYaml(this.render.files.k3dConfig), hostsDaemonSet: this.manifest('DaemonSet'),
    });
    this.nodes.push(node);
    return node;
  }

  /** A started node whose containerd answers and whose hosts line is in place. */
  async readyNode(): Promise<K3sNode> {
    const node = this.startNode();
    await node.ready();
    await expectEventually(() => node.hosts().includes(this.hostsLine()), 'the hosts line');
    return node;
  }

  /** The line the hosts script keeps, for the registry's current address. */
  hostsLine(ip = this.registryIp()): string {
    return `${ip} container-registry.local  # managed by k3s-devreg`;
  }

  teardown(): void {
    for (const node of this.nodes) node.remove();
    spawnSync('docker', ['rm', '-f', '-v', this.registry], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', this.network], { stdio: 'ignore' });
    for (const image of this.images) spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function expectEventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (let waited = 0; !(await Promise.resolve(check()).catch(() => false)); waited += 200) {
    if (waited > timeoutMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
