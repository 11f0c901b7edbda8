/**
 * `cache status | rm`: the pull-through cache every cluster on this docker daemon shares. Thin: the
 * inventory and the removal are in src/cache/inventory.ts.
 */
import { confirm, type Ask } from '../ask.js';
import { cacheInventory, formatCacheTable, removeCache, type CacheInventory } from '../cache/inventory.js';
import type { CommandMain, Outcome } from '../command-types.js';
import { UserError } from '../errors.js';
import { canPrompt, type Io } from '../io.js';
import { stateRoot } from '../state/layout.js';
import { dockerServerVersion } from '../tools/docker.js';
import type { Runner } from '../tools/run.js';
import { isSet } from './inputs.js';

const SUBCOMMANDS = ['status', 'rm'] as const;
const USAGE = 'k3s-devreg cache status [--json] | cache rm [--yes]';
const NONE = 'no pull-through cache on this docker daemon';

async function status(runner: Runner, root: string, json: boolean): Promise<Outcome> {
  const { caches } = await cacheInventory(runner, root, { diskUse: true });
  const allRunning = caches.every((c) => c.state === 'running');
  const code = allRunning ? 0 : 1;
  if (json) return { code, json: { allRunning, caches } };
  if (caches.length === 0) return { code, out: [`${NONE} (k3s-devreg up starts one unless the cache is turned off)`] };
  const down = caches.filter((c) => c.state !== 'running');
  const summary = allRunning
    ? 'Every cache container is running.'
    : `Not running: ${down.map((c) => c.container).join(', ')}. Pulls of ${down.map((c) => c.host).join(', ')} go straight to the upstream; k3s-devreg up starts the cache again.`;
  return { code, out: [formatCacheTable(caches), summary] };
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Asks before anything is removed, as reset does: --yes answers for the user; without a terminal (or in CI), --yes is required. */
async function confirmRemoval(found: CacheInventory, io: Io, yes: boolean, ask: Ask | undefined): Promise<boolean> {
  if (yes) return true;
  const what = `${count(found.containers.length, 'container')}, ${count(found.volumes.length, 'volume')} with every cached image, ${count(found.configFiles.length, 'config file')}`;
  if (!canPrompt(io, yes) || !ask) throw new UserError(`cache rm removes the pull-through cache (${what}) and needs confirmation`, 'run it again with --yes');
  return confirm(ask, `Remove the pull-through cache shared by every cluster on this docker daemon (${what})?`);
}

async function remove(runner: Runner, root: string, io: Io, yes: boolean, json: boolean, ask: Ask | undefined): Promise<Outcome> {
  const found = await cacheInventory(runner, root, { diskUse: !yes });
  if (found.containers.length + found.volumes.length + found.configFiles.length === 0) {
    return json ? { code: 0, json: { containers: [], volumes: [], configFiles: [] } } : { code: 0, out: [`${NONE}: nothing to remove`] };
  }
  if (!yes && found.caches.length > 0) io.err(formatCacheTable(found.caches));
  // Not what was asked for, so not success (as when reset is declined): scripts can tell.
  if (!(await confirmRemoval(found, io, yes, ask))) return { code: 1, notes: ['Nothing was changed.'] };
  const removed = await removeCache(runner, found);
  if (json) return { code: 0, json: removed };
  const list = (items: string[], what: string) => (items.length > 0 ? [`Removed ${count(items.length, what)}: ${items.join(', ')}`] : []);
  return {
    code: 0,
    out: [
      ...list(removed.containers, 'container'),
      ...list(removed.volumes, 'volume'),
      ...list(removed.configFiles, 'config file'),
      'Clusters keep working: k3s pulls from each upstream itself when its mirror is gone. The next k3s-devreg up starts a new, empty cache.',
    ],
  };
}

export const main: CommandMain = async ({ options, positionals }, io, deps) => {
  const [sub, ...extra] = positionals;
  if (sub === undefined) throw new UserError('cache needs a subcommand: status or rm', `run ${USAGE}`);
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number]) || extra.length > 0) {
    throw new UserError(`unknown cache subcommand ${JSON.stringify(positionals.join(' '))}`, `run ${USAGE}`);
  }
  const runner = deps.runner(isSet(options, 'verbose'));
  const root = stateRoot(io.env);
  const json = isSet(options, 'json');
  await dockerServerVersion(runner);
  if (sub === 'status') return status(runner, root, json);
  const yes = isSet(options, 'yes');
  return remove(runner, root, io, yes, json, canPrompt(io, yes) ? deps.ask : undefined);
};
