/**
 * A minimal CRI runtime client (runtime.v1.RuntimeService over containerd's unix socket): the calls a
 * kubelet makes to start a pod with one container and to read their state (test/node/cri-runtime.proto).
 * Enums travel as their names (NODE, SANDBOX_READY, CONTAINER_RUNNING).
 */
import { fileURLToPath } from 'node:url';
import { callCri, criClient, type CriClient } from './cri-grpc.js';

const PROTO = fileURLToPath(new URL('../node/cri-runtime.proto', import.meta.url));

type Mode = 'POD' | 'CONTAINER' | 'NODE';
export interface Namespaces {
  network?: Mode;
  pid?: Mode;
  ipc?: Mode;
}
export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  log_directory?: string;
  labels?: Record<string, string>;
  linux?: { cgroup_parent?: string; security_context?: { namespace_options?: Namespaces } };
}
export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  envs?: { key: string; value: string }[];
  mounts?: { container_path: string; host_path: string; readonly?: boolean }[];
  log_path?: string;
  linux?: {
    security_context?: {
      capabilities?: { drop_capabilities?: string[]; add_capabilities?: string[] };
      namespace_options?: Namespaces;
      readonly_rootfs?: boolean;
      no_new_privs?: boolean;
    };
  };
}
export interface ContainerStatus {
  id: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  exit_code: number;
  image: { image: string } | null;
  image_ref: string;
  reason: string;
  message: string;
  log_path: string;
}

export class CriRuntime {
  private readonly client: CriClient;

  constructor(socket: string) {
    this.client = criClient(PROTO, 'RuntimeService', socket);
  }

  private call<Res>(method: string, request: object, seconds = 60): Promise<Res> {
    return callCri<Res>(this.client, method, request, seconds);
  }

  /** RunPodSandbox: containerd starts the sandbox (pause) container, from its sandbox_image. */
  runPodSandbox(config: PodSandboxConfig): Promise<string> {
    return this.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config }).then((r) => r.pod_sandbox_id);
  }

  podSandboxState(id: string): Promise<string> {
    return this.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: id }, 10).then((r) => r.status.state);
  }

  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    return this.call<{ container_id: string }>('CreateContainer', { pod_sandbox_id: sandboxId, config, sandbox_config: sandboxConfig }).then((r) => r.container_id);
  }

  async startContainer(id: string): Promise<void> {
    await this.call('StartContainer', { container_id: id });
  }

  containerStatus(id: string): Promise<ContainerStatus> {
    return this.call<{ status: ContainerStatus }>('ContainerStatus', { container_id: id }, 10).then((r) => r.status);
  }

  /** StopPodSandbox then RemovePodSandbox, as the kubelet deletes a pod (its containers go with it). */
  async removePodSandbox(id: string): Promise<void> {
    await this.call('StopPodSandbox', { pod_sandbox_id: id });
    await this.call('RemovePodSandbox', { pod_sandbox_id: id });
  }

  close(): void {
    this.client.close();
  }
}
