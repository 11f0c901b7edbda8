/**
 * Stand-in k3s nodes for doctor's node checks: busybox containers (TEST_LABEL) with a state folder's
 * node/ mounted read-only at NODE_CONFIG_DIR as k3d mounts it, and the files k3s writes planted at
 * k3s's paths from that folder's registries.yaml (certs.d/<host>/hosts.toml and config.toml, as
 * k3s-containerd.ts transcribes k3s), a hosts line, and a containerd.log. The real registry runs from
 * the rendered manifests; the state is rendered for its published port, so localhost:<port> is ours.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NODE_PATHS } from '../../src/doctor/node-read.js';
import { DEFAULT_K3S_IMAGE, NODE_CONFIG_DIR } from '../../src/spec.js';
import { renderState } from '../../src/steps/render-state.js';
import { createRunner } from '../../src/tools/run.js';
import { docker } from './docker.js';
import { ensureBusyboxImage } from './images.js';
import { k3sHostsFiles, parseRegistriesYaml, registryConfigToml, type K3sHostsShape } from './k3s-containerd.js';
import { startRenderedRegistry, TEST_LABEL, type Obj } from './registry-container.js';
import type { RegistriesConfig } from '../../src/registries/types.js';

export const SERVICE_IP = '10.43.0.50';
export const hostsLine = (ip = SERVICE_IP) => `${ip} container-registry.local  # managed by k3s-devreg`;

export interface Plant {
  /** The registries k3s generated its files from (default: the node's registries.yaml). */
  registries?: RegistriesConfig;
  shape?: K3sHostsShape;
  hosts?: string;
  containerdLog?: string;
}

export class DoctorNodeBed {
  readonly suffix = randomBytes(4).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-doctor-node-'));
  readonly stateDir = join(this.dir, 'state');
  readonly registry = `k3s-devreg-test-doctor-registry-${this.suffix}`;
  readonly password = `doctor "p$ss" #${this.suffix}: ü`;
  private readonly containers: string[] = [];
  port = 0;

  private async render(stateDir: string, hostPort: number, password = this.password) {
    return renderState({
      spec: { name: 'devreg', agents: 1, hostPort, username: 'team-user', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: DEFAULT_K3S_IMAGE, stateDir },
      password, strict: true, runner: createRunner(), env: {},
    });
  }

  /** Renders, starts the real registry, and renders again for its published port. */
  async setup(): Promise<void> {
    const first = await this.render(this.stateDir, 31113);
    const manifests = first.files.manifests.map((f) => parse(readFileSync(f, 'utf8'), { version: '1.1' }) as Obj);
    const find = (kind: string) => manifests.find((m) => m.kind === kind)!;
    this.port = await startRenderedRegistry({ name: this.registry, dir: this.dir, deployment: find('Deployment'), secret: find('Secret'), ca: readFileSync(first.files.caCert, 'utf8') });
    await this.render(this.stateDir, this.port);
  }

  /** A copy of the state folder, to break without touching the others'. */
  copyState(name: string): string {
    const copy = join(this.dir, `state-${name}`);
    cpSync(this.stateDir, copy, { recursive: true });
    return copy;
  }

  /** `render` with another password, as up would before restarting the nodes. */
  async rerender(stateDir: string, password: string): Promise<void> {
    await this.render(stateDir, this.port, password);
  }

  registriesOf(stateDir = this.stateDir): RegistriesConfig {
    return parseRegistriesYaml(readFileSync(join(stateDir, 'node/registries.yaml'), 'utf8'));
  }

  /** A running stand-in node with the k3s files planted; returns its container name. */
  startNode(name: string, plant: Plant = {}, stateDir = this.stateDir): string {
    const container = `k3s-devreg-test-doctor-${name}-${this.suffix}`;
    docker(['run', '-d', '--label', TEST_LABEL, '--name', container, '-v', `${join(stateDir, 'node')}:${NODE_CONFIG_DIR}:ro`, ensureBusyboxImage(), 'sleep', '3600']);
    this.containers.push(container);
    this.plant(container, { registries: this.registriesOf(stateDir), ...plant });
    return container;
  }

  plant(container: string, plant: Plant): void {
    if (plant.registries) {
      const certsDir = NODE_PATHS.certsDir;
      const files: Record<string, string> = { [NODE_PATHS.configToml]: registryConfigToml(plant.registries, certsDir) };
      for (const [dir, text] of Object.entries(k3sHostsFiles(plant.registries, plant.shape))) files[`${certsDir}/${dir}/hosts.toml`] = text;
      this.exec(container, `rm -rf ${certsDir}`);
      for (const [path, text] of Object.entries(files)) this.write(container, path, text);
    }
    this.write(container, '/etc/hosts', plant.hosts ?? `127.0.0.1\tlocalhost\n${hostsLine()}\n`);
    this.write(container, NODE_PATHS.containerdLog, plant.containerdLog ?? '');
  }

  /** Written in place (the bind-mounted /etc/hosts cannot be replaced); the content travels on stdin. */
  write(container: string, path: string, content: string): void {
    docker(['exec', '-i', container, 'sh', '-c', `mkdir -p "$(dirname "$1")" && cat > "$1"`, 'sh', path], content);
  }

  exec(container: string, script: string): string {
    return docker(['exec', container, 'sh', '-c', script]);
  }

  stop(container: string): void {
    docker(['stop', '-t', '0', container]);
  }

  teardown(): void {
    for (const c of [...this.containers, this.registry]) spawnSync('docker', ['rm', '-f', '-v', c], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
