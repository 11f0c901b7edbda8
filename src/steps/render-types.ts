/** What renderState takes and returns (a leaf: render-state.ts and render-stamp.ts both use it). */
import type { RegistryCredentials } from '../render/registries-yaml.js';
import type { ClusterSpec } from '../spec.js';
import type { Runner } from '../tools/run.js';

export interface RenderRequest {
  spec: ClusterSpec;
  password?: string;
  registriesFile?: string;
  strict: boolean;
  runner: Runner;
  env: NodeJS.ProcessEnv;
  now?: Date;
}

export interface RenderResult {
  files: {
    k3dConfig: string;
    registriesYaml: string;
    manifests: string[];
    caCert: string;
    caKey: string;
    nodeCaCert: string;
    tlsCert: string;
    tlsKey: string;
    htpasswd: string;
    credentials: string;
    settings: string;
    gitignore: string;
    renderStamp: string;
  };
  credentials: RegistryCredentials;
  /** Absolute paths of the files this run wrote. */
  changed: string[];
  /** Redacted diff (or first-time preview) of registries.yaml when it changed. */
  registriesDiff?: string;
  warnings: string[];
}
