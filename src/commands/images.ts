/**
 * `images ls | rm | prune | du` (issue 14): what our registry holds, and keeping it tidy; and
 * `images save | load` (issue 13): an image bundle made on a connected machine and loaded on one
 * without a network. Thin: the registry's side is in steps/images-commands.ts, the bundle's in
 * images/bundle.ts and steps/images-bundle.ts.
 */
import { resolve } from 'node:path';
import { confirm } from '../ask.js';
import type { CommandMain, Deps, ParsedOptions } from '../command-types.js';
import { loadConfigFile } from '../config-file.js';
import { UserError } from '../errors.js';
import { parseRemoveTarget } from '../images/prune-plan.js';
import { canPrompt, type Io } from '../io.js';
import * as spec from '../spec.js';
import { readSettings } from '../state/settings.js';
import { loadBundle, saveBundle } from '../steps/images-bundle.js';
import { imagesDu, imagesLs, imagesPrune, imagesRm } from '../steps/images-commands.js';
import { findRegistry } from '../steps/images-registry.js';
import type { Confirm } from '../steps/images-remove.js';
import { resolveTarget } from '../steps/target.js';
import { isSet, targetFlags, text } from './inputs.js';

const USAGE = 'k3s-devreg images ls|du [--json] | images rm REPO[:TAG] [--yes] | images prune [--keep N] [--yes] | images save [-o FILE] [--with IMAGE ...] | images load FILE [--name NAME]';
const DEFAULT_KEEP = 3;

/** --yes answers yes; a person at a terminal is asked; anyone else (CI, no TTY) is refused before anything runs. */
function confirmer(options: ParsedOptions, io: Io, deps: Deps, command: string): Confirm {
  const yes = isSet(options, 'yes');
  if (yes) return async () => true;
  const ask = deps.ask;
  if (!canPrompt(io, yes) || !ask) throw new UserError(`images ${command} deletes from the registry and needs confirmation`, 'run it again with --yes');
  return (question) => confirm(ask, question);
}

function keepOf(options: ParsedOptions): number {
  const given = text(options, 'keep');
  if (given === undefined) return DEFAULT_KEEP;
  if (!/^\d+$/.test(given)) throw new UserError(`--keep ${JSON.stringify(given)} is not a whole number`, `give the images to keep per repository (tags on one image count once), e.g. --keep ${DEFAULT_KEEP}`);
  return Number(given);
}

const REGISTRY_COMMANDS = new Set(['ls', 'rm', 'prune', 'du']);

/** Options that mean something to some subcommands only (the others: --name, --config, --json, --verbose). */
const ONLY_FOR: Record<string, { flag: string; subcommands: string[] }> = {
  keep: { flag: '--keep', subcommands: ['prune'] },
  yes: { flag: '--yes', subcommands: ['rm', 'prune'] },
  output: { flag: '--output (-o)', subcommands: ['save'] },
  with: { flag: '--with', subcommands: ['save'] },
  'k3s-image': { flag: '--k3s-image', subcommands: ['save'] },
};

/** An option given where it means nothing is refused rather than ignored: `images ls --keep 1` deletes nothing. */
function refuseForeignOptions(sub: string, options: ParsedOptions): void {
  for (const [key, { flag, subcommands }] of Object.entries(ONLY_FOR)) {
    if (options[key] === undefined || subcommands.includes(sub)) continue;
    throw new UserError(`${flag} does not apply to images ${sub} (only to images ${subcommands.join(', ')})`, `leave it out, or see k3s-devreg images --help`);
  }
}
export const DEFAULT_BUNDLE = 'k3s-devreg-images.tar';

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const main: CommandMain = async ({ options, positionals }, io, deps) => {
  const [sub, ...rest] = positionals;
  const run = deps.runner(isSet(options, 'verbose'));
  const say = (line: string) => io.err(line);
  if (sub !== undefined && (REGISTRY_COMMANDS.has(sub) || sub === 'save' || sub === 'load')) refuseForeignOptions(sub, options);
  if (sub === 'rm' && rest.length !== 1) {
    throw new UserError(rest.length === 0 ? 'images rm needs the image to delete, as REPO[:TAG]' : `images rm takes one REPO[:TAG], not ${rest.length}`, 'name it as k3s-devreg images ls shows it, e.g. k3s-devreg images rm app:1');
  }
  if (sub !== undefined && REGISTRY_COMMANDS.has(sub) && rest.length === (sub === 'rm' ? 1 : 0)) {
    // Flags (and who answers the question) are checked before anything is asked of docker or the registry.
    const keep = keepOf(options);
    // The port is not known yet: any localhost port passes here, and planRemoval checks it.
    if (sub === 'rm') parseRemoveTarget(rest[0]!, undefined);
    const confirmDelete = sub === 'rm' || sub === 'prune' ? confirmer(options, io, deps, sub) : async () => false;
    const { name, stateDir } = await resolveTarget(targetFlags(options), io);
    const target = await findRegistry(run, name, stateDir);
    const json = isSet(options, 'json');
    if (sub === 'ls') return imagesLs(target, json);
    if (sub === 'du') return imagesDu(run, target, json);
    if (sub === 'rm') return imagesRm({ target, what: rest[0]!, json, confirm: confirmDelete, say });
    return imagesPrune({ run, target, keep, json, confirm: confirmDelete, say, signal: deps.signal });
  }
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
  throw new UserError(sub === undefined ? 'images needs a subcommand: ls, rm, prune, du, save or load' : `unknown images command ${JSON.stringify(positionals.join(' '))}`, `run ${USAGE}`);
};
