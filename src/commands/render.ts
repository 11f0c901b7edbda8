/** `k3s-devreg render`: write every file `up` uses, and say where they are. */
import { relative } from 'node:path';
import type { CommandMain } from '../command-types.js';
import { canPrompt } from '../io.js';
import { resolveClusterOptions } from '../options.js';
import { renderOrKeep } from '../steps/render-or-keep.js';
import { clusterFlags, isSet } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const flags = clusterFlags(options);
  const resolved = await resolveClusterOptions(flags, io, canPrompt(io, flags.yes) ? deps.ask : undefined);
  const result = await renderOrKeep({ ...resolved, runner: deps.runner(isSet(options, 'verbose')), env: io.env });

  for (const warning of result.warnings) io.err(`warning: ${warning}`);
  if (result.registriesDiff) io.err(result.registriesDiff);
  // Paths only: credentials.json's path, never its content; on one line, as scripts have read it.
  if (isSet(options, 'json')) return { code: 0, out: [JSON.stringify(result.files)] };
  const dir = resolved.spec.stateDir;
  return {
    code: 0,
    out: [
      result.changed.length === 0 ? `Rendered into ${dir}: every file was already up to date.` : `Rendered into ${dir} (${result.changed.length} file(s) written, the rest unchanged):`,
      ...result.changed.map((path) => `  wrote ${relative(dir, path)}`),
      `Registry user ${result.credentials.username}; password in ${result.files.credentials} (0600).`,
      `CA certificate: ${result.files.caCert}`,
    ],
  };
};
