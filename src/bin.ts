#!/usr/bin/env node
import { quickAnswer } from './help.js';
import { stopQuietlyWhenOutputCloses } from './closed-pipe.js';

stopQuietlyWhenOutputCloses();
const argv = process.argv.slice(2);
const quick = quickAnswer(argv);
if (quick) {
  // Help and version need no redaction, no signal handling and no command module: print and stop.
  process.stdout.write(`${quick.text}\n`);
  process.exitCode = quick.code;
} else {
  const [{ runCli }, { processIo }] = await Promise.all([import('./cli.js'), import('./io.js')]);
  process.exitCode = await runCli(argv, processIo());
}
