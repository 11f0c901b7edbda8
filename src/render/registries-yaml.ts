/**
 * Our own entries of the k3s registries.yaml: a mirror for container-registry.local:5000 over https,
 * and its config with the credentials and the CA path as the nodes see it.
 */
import { toYaml } from './yaml-stream.js';
import { NODE_CA_FILE, REGISTRY_HOST, REGISTRY_PORT } from '../spec.js';

/**
 * One way to write a registries.yaml, used for the nodes' file and for both sides of every diff, so
 * that a diff shows only real changes (toYaml: YAML 1.1 quoting, as k3s reads it, nothing folded).
 */
export const serializeRegistries = (config: unknown): string => toYaml(config ?? {});

export interface RegistryCredentials {
  username: string;
  password: string;
}

export type RegistriesDocument = {
  mirrors?: Record<string, unknown> | null;
  configs?: Record<string, unknown> | null;
  auths?: Record<string, unknown> | null;
};

/**
 * With `hostPort`, also a mirror for `localhost:<hostPort>`, the name this machine pushes to, so that
 * the same image name works in `docker push` and in a pod spec (kind's local-registry recipe does
 * the same): containerd then pulls it from our registry, with the credentials and CA above.
 */
export function ourRegistries(credentials: RegistryCredentials, hostPort?: number): RegistriesDocument {
  const address = `${REGISTRY_HOST}:${REGISTRY_PORT}`;
  return {
    mirrors: { [address]: { endpoint: [`https://${address}`] }, ...(hostPort ? { [`localhost:${hostPort}`]: { endpoint: [`https://${address}`] } } : {}) },
    configs: {
      [address]: {
        auth: { username: credentials.username, password: credentials.password },
        tls: { ca_file: NODE_CA_FILE },
      },
    },
  };
}

const HEADER = '# Written by k3s-devreg. k3s reads this file only when it starts.\n';

export function renderRegistriesYaml(document: RegistriesDocument): string {
  return HEADER + serializeRegistries(document);
}
