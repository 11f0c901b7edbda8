/**
 * `registries apply | status | render`: a registries.yaml (and a CA) on every node of a k3s cluster
 * the user already has. Thin: options to requests; the work is in src/registries/.
 */
import type { CommandMain, ParsedOptions } from '../command-types.js';
import { UserError } from '../errors.js';
import { canPrompt, type Io } from '../io.js';
import { applyRegistries } from '../registries/apply.js';
import { defaultRegistriesFile } from '../registries/load.js';
import { requireKubeContext } from '../registries/kube-context.js';
import { renderRegistriesWriterFiles } from '../registries/render-writer.js';
import { formatStatusTable, registriesStatus } from '../registries/status.js';
import { createRunner, type Runner } from '../tools/run.js';

const SUBCOMMANDS = ['apply', 'status', 'render'] as const;
const USAGE = 'k3s-devreg registries apply --context CTX -f registries.yaml [--ca FILE] | status --context CTX | render --dir DIR';

const text = (options: ParsedOptions, key: string): string | undefined => {
  const value = options[key];
  // Empty is refused, not taken as "not given": `-f ""` must not quietly read ./registries.yaml.
  if (value === '') throw new UserError(`--${key} is empty`, `give --${key} a value, or leave it out`);
  return typeof value === 'string' ? value : undefined;
};

function requireText(options: ParsedOptions, key: string, why: string): string {
  const value = text(options, key);
  if (value === undefined) throw new UserError(`registries ${why} needs --${key}`, `run ${USAGE}`);
  return value;
}

async function status(context: string, json: boolean, io: Io, runner: Runner): Promise<number> {
  const nodes = await registriesStatus(runner, context);
  const allMatch = nodes.length > 0 && nodes.every((n) => n.state === 'matches');
  if (json) io.out(JSON.stringify({ context, allMatch, nodes }, null, 2));
  else {
    io.out(formatStatusTable(nodes));
    io.out(allMatch ? 'Every node has the current registries.yaml (k3s loads it when it restarts).' : 'Not every node has the current registries.yaml.');
  }
  return allMatch ? 0 : 1;
}

export const main: CommandMain = async (options, positionals, io) => {
  const [sub, ...extra] = positionals;
  if (sub === undefined) throw new UserError('registries needs a subcommand: apply, status or render', `run ${USAGE}`);
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number]) || extra.length > 0) {
    throw new UserError(`unknown registries subcommand ${JSON.stringify(positionals.join(' '))}`, `run ${USAGE}`);
  }
  const runner = createRunner(options.verbose ? (line) => io.err(line) : undefined);
  const strict = options['no-strict'] !== true;
  const json = options.json === true;
  const givenFile = text(options, 'file');
  const ca = text(options, 'ca');
  const writerImage = text(options, 'writer-image');
  const image = writerImage ? { writerImage } : {};
  if (sub === 'status') {
    const context = requireText(options, 'context', 'status');
    await requireKubeContext(runner, context);
    return status(context, json, io, runner);
  }
  if (sub === 'render') {
    const dir = requireText(options, 'dir', 'render');
    const file = givenFile ?? (await defaultRegistriesFile(io.cwd, io.err));
    return renderRegistriesWriterFiles({ dir, file, ...(ca ? { ca } : {}), ...image, strict, json }, io, runner);
  }
  const context = requireText(options, 'context', 'apply');
  const file = givenFile ?? (await defaultRegistriesFile(io.cwd, io.err));
  const yes = options.yes === true;
  const ask = canPrompt(io, yes) ? (await import('../prompt.js')).ask : undefined;
  return applyRegistries({ context, file, ...(ca ? { ca } : {}), ...image, strict, json, yes, ...(ask ? { ask } : {}) }, io, runner);
};
