/**
 * From the user's inputs (registries file, --ca) to the writer manifests for an existing k3s cluster.
 * Shared by `registries apply` and `registries render`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readAsset } from '../assets.js';
import { UserError } from '../errors.js';
import { renderRegistriesWriter, type RenderedRegistriesWriter } from './writer-daemonset.js';
import { serializeRegistries } from '../render/registries-yaml.js';
import { NODE_CA_FILE, validateImage } from '../spec.js';
import type { Io } from '../io.js';
import type { Runner } from '../tools/run.js';
import { loadRegistriesFile } from './load.js';
import { redactedYaml } from './redacted-diff.js';
import type { RegistriesConfig } from './types.js';

/** The first line marks the file as ours: the writer keeps a one-time backup of any other file. */
export const HOST_FILE_HEADER = '# Written by k3s-devreg (registries apply); k3s reads it only at start. Local edits are replaced on the next apply.\n';

/** What nodes of an existing cluster can see: the --ca file we install, and the system trust folders. */
export function existingClusterVisiblePaths(hasCa: boolean): string[] {
  return [...(hasCa ? [NODE_CA_FILE] : []), '/etc/ssl/certs', '/etc/pki'];
}

export interface WriterInputs {
  file: string;
  ca?: string;
  strict: boolean;
  runner: Runner;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** --writer-image; wins over env K3S_DEVREG_WRITER_IMAGE. */
  writerImage?: string;
}

/**
 * The user's inputs, read and checked (file, CA, credential references, strictness), before anything
 * about the cluster is known; `render` makes the manifests once the previous salt is known.
 */
export interface LoadedWriter {
  registriesYaml: string;
  caCert?: string;
  warnings: string[];
  /** Some configs entry sets tls.ca_file (which k3s releases with issue 9839 ignore). */
  configuresCaFile: boolean;
  /**
   * salt: the previous apply/render's, so unchanged content keeps its checksum (and pods are not rolled).
   * nodeTable: what apply learnt of each node (node-targets.ts); none for render.
   */
  render(salt: string | undefined, nodeTable?: string): RenderedRegistriesWriter;
}

async function readCa(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the CA certificate ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path given with --ca');
  }
  // A key passed by mistake would otherwise land, world-readable, on every node.
  if (text.includes('PRIVATE KEY-----')) {
    throw new UserError(`${path} contains a private key`, 'pass only the CA certificate with --ca; keep the key where it is');
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UserError(`${path} is not a PEM certificate`, 'pass the CA certificate (-----BEGIN CERTIFICATE-----), never a private key');
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

const usesCa = (config: RegistriesConfig): boolean =>
  Object.values(config.configs ?? {}).some((entry) => entry?.tls?.ca_file === NODE_CA_FILE);

export const newSalt = (): string => randomBytes(32).toString('hex');

export async function loadWriter(inputs: WriterInputs): Promise<LoadedWriter> {
  const file = resolve(inputs.cwd, inputs.file);
  const caCert = inputs.ca === undefined ? undefined : await readCa(resolve(inputs.cwd, inputs.ca));
  const loaded = await loadRegistriesFile(file, {
    strict: inputs.strict,
    nodeVisibleDirs: existingClusterVisiblePaths(caCert !== undefined),
    runner: inputs.runner,
    env: inputs.env,
    nodeFileHint: `--ca FILE installs a CA as ${NODE_CA_FILE} on every node`,
  });
  const warnings = [...loaded.warnings];
  if (caCert !== undefined && !usesCa(loaded.config)) {
    warnings.push(`--ca is installed as ${NODE_CA_FILE}, but no configs entry has tls.ca_file: ${NODE_CA_FILE}`);
  }
  const registriesYaml = HOST_FILE_HEADER + serializeRegistries(loaded.config);
  const [writerImage, imageSource] = inputs.writerImage ? [inputs.writerImage, '--writer-image'] : [inputs.env.K3S_DEVREG_WRITER_IMAGE, 'K3S_DEVREG_WRITER_IMAGE'];
  const image = writerImage ? { writerImage: validateImage(writerImage, imageSource) } : {};
  const writerScript = await readAsset('registries-writer.sh');
  return {
    registriesYaml,
    ...(caCert !== undefined ? { caCert } : {}),
    warnings,
    configuresCaFile: Object.values(loaded.config.configs ?? {}).some((entry) => typeof entry?.tls?.ca_file === 'string'),
    render: (salt, nodeTable) =>
      renderRegistriesWriter({
        registriesYaml,
        redactedYaml: redactedYaml(registriesYaml) ?? '',
        ...(caCert !== undefined ? { caCert } : {}),
        salt: salt ?? newSalt(),
        writerScript,
        ...(nodeTable !== undefined ? { nodeTable } : {}),
        ...image,
      }),
  };
}

/** loadWriter for a command: the file, CA and strictness it was given, read from the caller's folder. */
export function loadWriterFor(source: { file: string; ca?: string; strict: boolean; writerImage?: string }, io: Io, runner: Runner): Promise<LoadedWriter> {
  return loadWriter({
    file: source.file,
    ...(source.ca !== undefined ? { ca: source.ca } : {}),
    ...(source.writerImage !== undefined ? { writerImage: source.writerImage } : {}),
    strict: source.strict,
    runner,
    env: io.env,
    cwd: io.cwd,
  });
}
