/**
 * `registries apply | status | render`: a registries.yaml (and a CA) on every node of a k3s cluster
 * the user already has. Thin: options to requests, the outcome to print; the work is in src/registries/.
 */
import { join } from 'node:path';
import { confirm } from '../ask.js';
import type { CommandMain, Outcome, ParsedOptions } from '../command-types.js';
import { UserError } from '../errors.js';
import { canPrompt, type Io } from '../io.js';
import { applyPlan, planApply, type ApplyRequest } from '../registries/apply.js';
import { defaultRegistriesFile } from '../registries/load.js';
import { requireKubeContext } from '../registries/kube-context.js';
import { renderRegistriesWriterFiles, SECRET_FILE, WRITER_FILE, type RenderRequest } from '../registries/render-writer.js';
import { formatStatusTable, registriesStatus } from '../registries/status.js';
import { loadWriterFor } from '../registries/writer-manifests.js';
import { WRITER_NAME, WRITER_NAMESPACE } from '../registries/writer-daemonset.js';
import type { Runner } from '../tools/run.js';

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

async function status(context: string, json: boolean, runner: Runner): Promise<Outcome> {
  const nodes = await registriesStatus(runner, context);
  const allMatch = nodes.length > 0 && nodes.every((n) => n.state === 'matches');
  const code = allMatch ? 0 : 1;
  if (json) return { code, json: { context, allMatch, nodes } };
  const summary = allMatch ? 'Every node has the current registries.yaml (k3s loads it when it restarts).' : 'Not every node has the current registries.yaml.';
  return { code, out: [formatStatusTable(nodes), summary] };
}

/** `registries render`: the files, then what was written and how to apply them. */
export async function render(request: RenderRequest & { json: boolean }, io: Io, runner: Runner): Promise<Outcome> {
  const result = await renderRegistriesWriterFiles(request, io, runner, (warning) => io.err(`warning: ${warning}`));
  if (request.json) return { code: 0, json: result };
  return {
    code: 0,
    out: [
      result.diff,
      ...result.files.map((f) => `${f.changed ? 'wrote    ' : 'unchanged'} ${f.path} (${f.mode})`),
      `Apply with: kubectl --context CTX apply -f ${join(result.dir, SECRET_FILE)} -f ${join(result.dir, WRITER_FILE)}`,
      '(or k3s-devreg registries apply --context CTX, which also waits for every node and reports the result)',
    ],
  };
}

/** `registries apply`: the redacted diff (on stderr with --json), a confirmation, then the per-node result. */
export async function apply(request: ApplyRequest, io: Io, runner: Runner): Promise<Outcome> {
  const { context } = request;
  // The user's files first: a typo in them is reported before the cluster is even asked.
  const prepared = await loadWriterFor(request, io, runner);
  for (const warning of prepared.warnings) io.err(`warning: ${warning}`);
  const plan = await planApply(context, prepared, runner);
  const show = request.json ? io.err : io.out;
  show(`Context ${context}, compared with the Secret ${WRITER_NAMESPACE}/${WRITER_NAME}:`);
  show(plan.diff);
  if (plan.ca) show(plan.ca);
  if (plan.changed && !request.yes) {
    if (!request.ask) {
      throw new UserError(`not changing the nodes of ${context} without confirmation`, 'review the diff above, then run again with --yes');
    }
    if (!(await confirm(request.ask, `Write this registries.yaml to every node of ${context}?`))) return { code: 1, notes: ['Nothing applied.'] };
  }
  const timeout = request.timeoutSeconds ?? 180;
  io.err(`Applying to ${context} and waiting up to ${timeout}s for the writer on every node...`);
  const result = await applyPlan(plan, runner, timeout, (table) => io.err(table));
  const code = result.allMatch ? 0 : 1;
  const notes = result.allMatch ? [] : [`Not every node has the new file yet: run k3s-devreg registries status --context ${context}`];
  if (request.json) return { code, json: result, notes };
  const advice = result.restart.length ? result.restart : ['No node needs a restart of k3s or RKE2: no file on a node changed.'];
  const logs = `Per-node diffs: kubectl --context ${context} -n ${WRITER_NAMESPACE} logs -l app.kubernetes.io/name=${WRITER_NAME} -c writer --prefix --tail=-1`;
  return { code, out: [formatStatusTable(result.nodes), ...advice, logs], notes };
}

export const main: CommandMain = async ({ options, positionals }, io, deps) => {
  const [sub, ...extra] = positionals;
  if (sub === undefined) throw new UserError('registries needs a subcommand: apply, status or render', `run ${USAGE}`);
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number]) || extra.length > 0) {
    throw new UserError(`unknown registries subcommand ${JSON.stringify(positionals.join(' '))}`, `run ${USAGE}`);
  }
  const runner = deps.runner(options.verbose === true);
  const strict = options['no-strict'] !== true;
  const json = options.json === true;
  const givenFile = text(options, 'file');
  const ca = text(options, 'ca');
  const writerImage = text(options, 'writer-image');
  const image = writerImage ? { writerImage } : {};
  if (sub === 'status') {
    const context = requireText(options, 'context', 'status');
    await requireKubeContext(runner, context);
    return status(context, json, runner);
  }
  if (sub === 'render') {
    const dir = requireText(options, 'dir', 'render');
    const file = givenFile ?? (await defaultRegistriesFile(io.cwd, io.err));
    return render({ dir, file, ...(ca ? { ca } : {}), ...image, strict, json }, io, runner);
  }
  const context = requireText(options, 'context', 'apply');
  const file = givenFile ?? (await defaultRegistriesFile(io.cwd, io.err));
  const yes = options.yes === true;
  const ask = canPrompt(io, yes) ? deps.ask : undefined;
  return apply({ context, file, ...(ca ? { ca } : {}), ...image, strict, json, yes, ...(ask ? { ask } : {}) }, io, runner);
};
