/**
 * `images save | load` (issue 13): an image bundle made on a connected machine and loaded on one
 * without a network. Thin: what goes in and how it is checked are in images/bundle.ts and
 * steps/images-bundle.ts.
 */
import { resolve } from 'node:path';
import type { CommandMain } from '../command-types.js';
import { loadConfigFile } from '../config-file.js';
import { UserError } from '../errors.js';
import * as spec from '../spec.js';
import { readSettings } from '../state/settings.js';
import { loadBundle, saveBundle } from '../steps/images-bundle.js';
import { resolveTarget } from '../steps/target.js';
import { isSet, targetFlags, text } from './inputs.js';

const USAGE = 'k3s-devreg images save [-o FILE] [--with IMAGE ...] | images load FILE [--name NAME]';
export const DEFAULT_BUNDLE = 'k3s-devreg-images.tar';

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const main: CommandMain = async ({ options, positionals }, io, deps) => {
  const [sub, ...rest] = positionals;
  const run = deps.runner(isSet(options, 'verbose'));
  const say = (line: string) => io.err(line);
  if (sub === 'save' && rest.length === 0) {
    const { config } = await loadConfigFile(text(options, 'config'), io.cwd);
    const images = {
      k3sImage: spec.validateImage(text(options, 'k3s-image') ?? config.k3sImage ?? spec.DEFAULT_K3S_IMAGE, '--k3s-image'),
      registryImage: config.registryImage ?? spec.DEFAULT_REGISTRY_IMAGE,
      hostsImage: config.hostsImage ?? spec.DEFAULT_HOSTS_IMAGE,
    };
    const given = ((options.with as string[] | undefined) ?? []).map((image) => spec.validateImage(image, '--with'));
    const extra = [...new Set([...(config.images ?? []), ...given])];
    const output = resolve(io.cwd, text(options, 'output') ?? DEFAULT_BUNDLE);
    const saved = await saveBundle({ run, env: io.env, spec: images, extra, exampleBase: spec.DEFAULT_HOSTS_IMAGE, output, say });
    const { docker, node } = saved.manifest;
    return { code: 0, out: [`Wrote ${saved.file} (${megabytes(saved.bytes)}): ${docker.length} image(s) for docker, ${node.length} for the nodes. On the other machine: k3s-devreg images load ${saved.file}`] };
  }
  if (sub === 'load' && rest.length === 1) {
    const { name, stateDir } = await resolveTarget(targetFlags(options), io);
    const k3sImage = (await readSettings(stateDir)).k3sImage ?? spec.DEFAULT_K3S_IMAGE;
    const loaded = await loadBundle({ run, file: resolve(io.cwd, rest[0]!), k3sImage, stateDir, say });
    return { code: 0, out: [`Loaded ${loaded.manifest.docker.length} image(s) into docker and ${loaded.manifest.node.length} for the nodes of ${name} (${loaded.nodeArchive}).`] };
  }
  throw new UserError(sub === undefined ? 'images needs a subcommand: save or load' : `unknown images command ${JSON.stringify(positionals.join(' '))}`, `run ${USAGE}`);
};
