/**
 * The nodes' part of an offline bundle (issue 13) is in a format k3s imports, and a pod's image then
 * needs nothing from outside. The archive is made as `images save` makes node-images.tar (saveImages,
 * real docker) from the registry stand-in and a busybox pause stand-in under their production names,
 * and lies where `images load` puts it, mounted into the node as the rendered k3d config mounts it.
 * The stand-in node (real containerd 1.6 with runc, privileged as k3d's nodes are) sits on an
 * `--internal` docker network and imports it into k8s.io as k3s does at start (containerd's Import
 * with all platforms, nothing unpacked: ctr's --all-platforms --no-unpack). Then the registry's pod
 * runs through the CRI as the kubelet runs it (IfNotPresent: ImageStatus finds it, no PullImage; the
 * sandbox from k3s's pause image), and a pull of an image that is not in the archive fails: a
 * registry published on the docker host answers a container of an ordinary network, not the node.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ARCHIVE } from '../../src/images/bundle.js';
import { DEFAULT_REGISTRY_IMAGE, NODE_IMAGES_DIR, NODE_REGISTRY_DATA_DIR } from '../../src/spec.js';
import { saveImages } from '../../src/tools/docker-images.js';
import { createRunner } from '../../src/tools/run.js';
import { CriRuntime, type ContainerConfig, type PodSandboxConfig } from '../helpers/cri-runtime.js';
import { docker } from '../helpers/docker.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import { buildNodeImage, K3sNode } from '../helpers/k3s-node.js';
import { expectEventually, NodeTestbed } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';
import { TEST_LABEL, type Obj } from '../helpers/registry-container.js';

const releases = (JSON.parse(readFileSync(new URL('../../assets/k3s-system-images.json', import.meta.url), 'utf8')) as { releases: Record<string, string[]> }).releases;
const PAUSE = releases['v1.31.5+k3s1']!.find((image) => image.includes('/mirrored-pause:'))!;
const full = (image: string): string => (image.includes('/') ? (image.split('/')[0]!.includes('.') ? image : `docker.io/${image}`) : `docker.io/library/${image}`);
const short = (image: string): string => image.replace(/^docker\.io\/(library\/)?/, '');
const SOCKET = '/run/k3s/containerd/containerd.sock';
const CONFIG_TOML = '/var/lib/rancher/k3s/agent/etc/containerd/config.toml';
/**
 * k3d runs nodes --privileged, and runc in the node needs that. A daemon that may not grant every
 * capability (here: no CAP_SYS_RESOURCE) refuses --privileged; then all it may grant, no seccomp or
 * AppArmor confinement, and the cgroup v1 tree writable (docker mounts it read-only otherwise).
 */
function runsContainers(): string[] {
  const privileged = spawnSync('docker', ['run', '--rm', '--label', TEST_LABEL, '--privileged', ensureBusyboxImage(), 'true'], { stdio: 'ignore' });
  if (privileged.status === 0) return ['--privileged'];
  return ['--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined', '-v', '/sys/fs/cgroup:/sys/fs/cgroup'];
}

const bed = new NodeTestbed();
const network = `k3s-devreg-test-bundle-net-${bed.suffix}`;
const controlNetwork = `k3s-devreg-test-bundle-ctl-${bed.suffix}`;
const nodeImage = `k3s-devreg-test/node-bundle-${bed.suffix}:containerd`;
const pauseStandIn = `k3s-devreg-test/pause-${bed.suffix}:1`;
const outside = `k3s-devreg-test-bundle-outside-${bed.suffix}`;
const nodeName = `k3s-devreg-test-bundle-node-${bed.suffix}`;
const podFiles = join(bed.dir, 'pod');
/** The production names this test tagged (a name the machine already had is left as it is). */
const tagged: string[] = [];
const builtImages: string[] = [];
const pushedTags: string[] = [];
let archive = '';
let node: K3sNode | undefined;
let runtime: CriRuntime | undefined;
let sandboxId = '';
let outsideAddress = '';

const imageId = (image: string): string | undefined => {
  try {
    return docker(['image', 'inspect', '--format', '{{.Id}}', image]);
  } catch {
    return undefined;
  }
};

/**
 * `name` on docker as `standIn`, unless docker has a real image of that name. The docker tier's
 * bundle test tags plain busybox under the same names while it runs (busybox does not serve, nor
 * stay up as a sandbox): wait until it has removed them.
 */
async function useName(name: string, standIn: string): Promise<void> {
  const busybox = imageId(ensureBusyboxImage());
  for (let waited = 0; ; waited += 500) {
    const id = imageId(name);
    if (id === undefined) {
      docker(['tag', standIn, name]);
      tagged.push(name);
      return;
    }
    if (id !== busybox) return;
    if (waited > 150_000) throw new Error(`${name} is still the busybox stand-in of another test`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One HTTPS GET to an address that trusts only `ca` and checks the certificate for `servername`. */
function httpsStatus(host: string, port: number, servername: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host, port, servername, path: '/', ca, timeout: 5_000 }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error('timeout'));
      })
      .end();
  });
}

const registryContainer = (): Obj => bed.manifest('Deployment').spec.template.spec.containers[0];

/** The registry's pod as the kubelet would send it for the rendered Deployment, on the node's network. */
function registryPod(): { sandbox: PodSandboxConfig; container: ContainerConfig } {
  const pod = bed.manifest('Deployment').spec.template.spec;
  const container = registryContainer();
  const namespaces = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } as const;
  const sandbox: PodSandboxConfig = {
    metadata: { name: `registry-${bed.suffix}`, uid: bed.suffix, namespace: 'kube-system' },
    log_directory: `/var/log/pods/kube-system_registry_${bed.suffix}`,
    linux: { security_context: { namespace_options: namespaces } },
  };
  const mounts = (container.volumeMounts as Obj[]).map((mount) => {
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
    if (!volume.secret) return { container_path: mount.mountPath, host_path: volume.hostPath.path, readonly: Boolean(mount.readOnly) };
    // The Secret volume as the kubelet lays it out, in a folder the node sees at the same path.
    const dir = join(podFiles, mount.name);
    for (const item of volume.secret.items as Obj[]) {
      mkdirSync(dirname(join(dir, item.path)), { recursive: true });
      writeFileSync(join(dir, item.path), Buffer.from(bed.manifest('Secret').data[item.key], 'base64'), { mode: volume.secret.defaultMode ?? 0o644 });
    }
    return { container_path: mount.mountPath, host_path: dir, readonly: true };
  });
  const security = container.securityContext ?? {};
  return {
    sandbox,
    container: {
      metadata: { name: container.name },
      image: { image: container.image },
      envs: (container.env as Obj[]).map((e) => ({ key: e.name, value: e.value })),
      mounts,
      log_path: `${container.name}/0.log`,
      linux: {
        security_context: {
          namespace_options: namespaces,
          readonly_rootfs: Boolean(security.readOnlyRootFilesystem),
          no_new_privs: security.allowPrivilegeEscalation === false,
          capabilities: { drop_capabilities: security.capabilities?.drop ?? [] },
        },
      },
    },
  };
}

describe.skipIf(!nodeTierAvailable)('the nodes\' part of a bundle, imported as k3s imports it, on a network with no way out (real containerd)', () => {
  beforeAll(async () => {
    await bed.renderState('bundle-import password');
    const k3dConfig = bed.render.files.k3dConfig;
    const k3d = (await import('yaml')).parse(readFileSync(k3dConfig, 'utf8')) as Obj;
    // As k3d mounts it on every node: the state folder's images/ at k3s's images path.
    const imagesVolume = (k3d.volumes as Obj[]).map((v) => String(v.volume)).find((v) => v.endsWith(`:${NODE_IMAGES_DIR}`))!;
    archive = join(K3sNode.hostPathOf(k3d, NODE_IMAGES_DIR), NODE_ARCHIVE);
    mkdirSync(dirname(archive), { recursive: true });

    buildNodeImage(nodeImage, ['ctr', 'runc', 'containerd-shim-runc-v2']);
    builtImages.push(nodeImage);
    // k3s's pause image is a process that waits: the sandbox's namespaces live as long as it does.
    const context = mkdtempSync(join(bed.dir, 'pause-'));
    writeFileSync(join(context, 'Dockerfile'), `FROM ${ensureBusyboxImage()}\nENTRYPOINT ["/bin/sleep", "2147483647"]\n`);
    docker(['build', '-q', '--label', TEST_LABEL, '-t', pauseStandIn, context]);
    builtImages.push(pauseStandIn);

    // The names are on docker only for the save: the node gets them from the archive alone.
    await useName(DEFAULT_REGISTRY_IMAGE, ensureRegistryImage());
    await useName(PAUSE, pauseStandIn);
    try {
      await saveImages(createRunner(), archive, [DEFAULT_REGISTRY_IMAGE, PAUSE]);
    } finally {
      for (const name of tagged.splice(0)) docker(['rmi', name]);
    }

    docker(['network', 'create', '--internal', '--label', TEST_LABEL, network]);
    docker(['network', 'create', '--label', TEST_LABEL, controlNetwork]);
    // "Outside": a registry published on the docker host, holding an image the archive lacks.
    docker(['run', '-d', '--label', TEST_LABEL, '--name', outside, '-p', '0.0.0.0::5000', ensureRegistryImage()]);
    // docker picks the port: the run of free ports tools.ts draws from can hold a port the docker host serves otherwise.
    const port = Number(/:(\d+)$/.exec(docker(['port', outside, '5000/tcp']).split('\n')[0]!)![1]);
    const pushed = `localhost:${port}/team/not-in-bundle:1`;
    docker(['tag', ensureBusyboxImage(), pushed]);
    pushedTags.push(pushed);
    await expectEventually(() => {
      docker(['push', pushed]);
      return true;
    }, 'the push to the outside registry', 30_000);
    // An address of the docker host (the ordinary network's gateway), where the published port is.
    outsideAddress = `${docker(['network', 'inspect', controlNetwork, '--format', '{{(index .IPAM.Config 0).Gateway}}'])}:${port}`;

    const hostsScript = bed.manifest('ConfigMap', 'registry-hosts-script').data['hosts-inject.sh'] as string;
    mkdirSync(podFiles, { recursive: true });
    node = K3sNode.start({
      name: nodeName, image: nodeImage, network, dir: bed.dir, hostsScript,
      k3dConfig: k3d, hostsDaemonSet: bed.manifest('DaemonSet'),
      dockerArgs: [...runsContainers(), '-v', imagesVolume, '-v', `${podFiles}:${podFiles}:ro`],
    });
    await node.ready();
    // The CRI gives the sandbox an OOM score of -998, which needs CAP_SYS_RESOURCE; without it runc
    // fails before the pause process runs. Then containerd keeps within its own score, as k3s has
    // containerd do when it runs rootless (restrict_oom_score_adj); a daemon that grants it changes nothing.
    if ((BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(node.exec('cat /proc/1/status'))![1]}`) & (1n << 24n)) === 0n) {
      const config = node.exec(`cat ${CONFIG_TOML}`).replace('  enable_selinux = false\n', '  enable_selinux = false\n  restrict_oom_score_adj = true\n');
      docker(['exec', '-i', nodeName, 'sh', '-c', `cat > ${CONFIG_TOML}`], config);
      await node.restartContainerd();
    }
    runtime = new CriRuntime(node.socket);
  }, 300_000);

  afterAll(async () => {
    if (runtime && sandboxId) await runtime.removePodSandbox(sandboxId).catch(() => undefined);
    runtime?.close();
    node?.remove();
    for (const name of tagged) docker(['rmi', name]);
    for (const tag of pushedTags) docker(['rmi', tag]);
    for (const [cmd, name] of [['rm', nodeName], ['rm', outside], ['network', network], ['network', controlNetwork]] as const) {
      try {
        docker(cmd === 'rm' ? ['rm', '-f', '-v', name] : ['network', 'rm', name]);
      } catch {
        // Never made.
      }
    }
    for (const image of builtImages) {
      try {
        docker(['rmi', image]);
      } catch {
        // Never built.
      }
    }
    bed.teardown();
  }, 120_000);

  it('the archive is what images save writes for the nodes: one docker save naming each image, where images load puts it', async () => {
    const dir = mkdtempSync(join(bed.dir, 'archive-'));
    await tar.extract({ file: archive, cwd: dir }, ['manifest.json']);
    const tags = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { RepoTags: string[] }[]).flatMap((m) => m.RepoTags);
    expect(tags.sort()).toEqual([DEFAULT_REGISTRY_IMAGE, PAUSE].map(short).sort());
    expect(archive).toBe(join(bed.stateDir, 'images', NODE_ARCHIVE));
    expect(node!.exec(`ls ${NODE_IMAGES_DIR}`)).toBe(NODE_ARCHIVE);
  });

  it('imported into k8s.io as k3s imports it: containerd and its CRI know each image by its full name', async () => {
    node!.exec(`ctr --address ${SOCKET} -n k8s.io images import --all-platforms --no-unpack ${NODE_IMAGES_DIR}/${NODE_ARCHIVE}`);
    const names = node!.exec(`ctr --address ${SOCKET} -n k8s.io images ls -q`).split('\n');
    expect(names).toEqual(expect.arrayContaining(['docker.io/library/registry:2.8.3', 'docker.io/rancher/mirrored-pause:3.6']));
    expect(names).toEqual(expect.arrayContaining([DEFAULT_REGISTRY_IMAGE, PAUSE].map(full)));
    // What the kubelet asks first for an IfNotPresent image: present, so no PullImage follows.
    expect((await node!.cri.status(DEFAULT_REGISTRY_IMAGE))?.repo_tags).toEqual(['docker.io/library/registry:2.8.3']);
    expect((await node!.cri.status(PAUSE))?.repo_tags).toEqual([PAUSE]);
  });

  it('the registry pod starts from the archive alone: sandbox from k3s\'s pause image, no PullImage, serving TLS', async () => {
    const container = registryContainer();
    // The Deployment's image carries a tag and no pull policy: the kubelet's default is IfNotPresent.
    expect(container.image).toBe(DEFAULT_REGISTRY_IMAGE);
    expect(container.imagePullPolicy ?? 'IfNotPresent').toBe('IfNotPresent');
    expect(container.image).not.toMatch(/:latest$/);
    node!.exec(`mkdir -p ${NODE_REGISTRY_DATA_DIR}`);
    const { sandbox, container: config } = registryPod();
    // The kubelet names a parent cgroup; the node's own keeps what runc makes inside the node's.
    sandbox.linux!.cgroup_parent = /^\d+:memory:(.*)$/m.exec(node!.exec('cat /proc/1/cgroup'))?.[1] ?? /^0::(.*)$/m.exec(node!.exec('cat /proc/1/cgroup'))![1];
    node!.exec(`mkdir -p ${sandbox.log_directory}`);
    // A missing sandbox image would be pulled here, and fail: the network has no way out.
    sandboxId = await runtime!.runPodSandbox(sandbox);
    expect(await runtime!.podSandboxState(sandboxId)).toBe('SANDBOX_READY');
    const id = await runtime!.createContainer(sandboxId, config, sandbox);
    await runtime!.startContainer(id);
    const log = () => node!.exec(`cat ${sandbox.log_directory}/${config.log_path}`);
    await expectEventually(() => /listening on .*:5000/.test(log()), 'the registry to listen', 30_000);
    expect(await runtime!.containerStatus(id)).toMatchObject({ state: 'CONTAINER_RUNNING', image: { image: 'docker.io/library/registry:2.8.3' } });
    const ip = docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, node!.options.name]);
    const ca = readFileSync(bed.render.files.caCert, 'utf8');
    expect(await httpsStatus(ip, 5000, 'container-registry.local', ca)).toBe(200);
    // Nothing asked containerd to pull: the CRI logs every PullImage it is sent.
    expect(node!.containerdLog()).not.toContain('PullImage');
  });

  it('the network is really cut: the outside registry answers an ordinary network, and the node\'s pulls of images not in the archive fail', async () => {
    const get = `printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${outsideAddress.replace(':', ' ')}`;
    const control = docker(['run', '--rm', '--label', TEST_LABEL, '--network', controlNetwork, ensureBusyboxImage(), 'sh', '-c', get]);
    expect(control).toMatch(/^HTTP\/1\.[01] 200 OK/);
    // The pod shares the node's network namespace: what the node cannot reach, the pod cannot.
    expect(node!.exec(`${get} 2>&1 || echo "exit $?"`)).toMatch(/timed out|exit 1/);
    const [fromOutside, fromHub] = await Promise.all([
      node!.cri.pullError(`${outsideAddress}/team/not-in-bundle:1`, 90),
      node!.cri.pullError('docker.io/library/busybox:1.36.1', 90),
    ]);
    expect(fromOutside).toMatch(new RegExp(`dial tcp ${outsideAddress.replace(/\./g, '\\.')}: (i/o timeout|connect: connection timed out)`));
    expect(fromHub).toMatch(/failed to pull and unpack image "docker\.io\/library\/busybox:1\.36\.1".*(lookup registry-1\.docker\.io|dial tcp)/);
    expect(node!.containerdLog()).toContain('PullImage \\"docker.io/library/busybox:1.36.1\\"');
  }, 150_000);
});
