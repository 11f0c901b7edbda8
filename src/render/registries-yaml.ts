/**
 * Our own entries of the k3s registries.yaml: a mirror for container-registry.local:5000 over https,
 * and its config with the credentials and the CA path as the nodes see it.
 */
import { stringify } from 'yaml';
import { NODE_CA_FILE, REGISTRY_HOST, REGISTRY_PORT } from '../spec.js';

/**
 * One way to write a registries.yaml, used for the nodes' file and for both sides of every diff, so
 * that a diff shows only real changes. YAML 1.1 quoting: k3s reads with yaml.v2 (YAML 1.1), where an
 * unquoted `yes` or `0123` would stop being a string. lineWidth 0: a long token folded over two
 * lines could not be redacted line by line on the node.
 */
export const serializeRegistries = (config: unknown): string => stringify(config ?? {}, { version: '1.1', lineWidth: 0 });

export interface RegistryCredentials {
  username: string;
  password: string;
}

export type RegistriesDocument = {
  mirrors?: Record<string, unknown> | null;
  configs?: Record<string, unknown> | null;
  auths?: Record<string, unknown> | null;
};

export function ourRegistries(credentials: RegistryCredentials): RegistriesDocument {
  const address = `${REGISTRY_HOST}:${REGISTRY_PORT}`;
  return {
    mirrors: { [address]: { endpoint: [`https://${address}`] } },
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
