/** `k3s-devreg render`: write every file `up` uses, and say where they are. */
import { relative } from 'node:path';
import type { CommandMain } from '../command-types.js';
import { canPrompt } from '../io.js';
import type { Ask } from '../ask.js';
import { resolveClusterOptions } from '../options.js';
import { renderOrKeep } from '../steps/render-or-keep.js';
import { createRunner } from '../tools/run.js';

export const main: CommandMain = async (options, _positionals, io) => {
  let ask: Ask | undefined;
  if (canPrompt(io, options.yes === true)) ask = (await import('../prompt.js')).ask;
  const resolved = await resolveClusterOptions(options, io, ask);
  const runner = createRunner(options.verbose ? io.err : undefined);
  const result = await renderOrKeep({ ...resolved, runner, env: io.env });

  for (const warning of result.warnings) io.err(`warning: ${warning}`);
  if (result.registriesDiff) io.err(result.registriesDiff);
  if (options.json) {
    // Paths only: credentials.json's path, never its content.
    io.out(JSON.stringify(result.files));
    return 0;
  }
  const dir = resolved.spec.stateDir;
  io.out(result.changed.length === 0 ? `Rendered into ${dir}: every file was already up to date.` : `Rendered into ${dir} (${result.changed.length} file(s) written, the rest unchanged):`);
  for (const path of result.changed) io.out(`  wrote ${relative(dir, path)}`);
  io.out(`Registry user ${result.credentials.username}; password in ${result.files.credentials} (0600).`);
  io.out(`CA certificate: ${result.files.caCert}`);
  return 0;
};
