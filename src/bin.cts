#!/usr/bin/env node
/**
 * The entry point, CommonJS on purpose: node starts a CommonJS file about 9 ms sooner than an ES
 * module, which is most of what a plain `--help` costs (start-up time is benchmarked). The plain
 * help and version answers are text the build wrote (quick-answers.json, from help.ts); anything
 * else loads the CLI, an ES module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopQuietlyWhenOutputCloses } from './closed-pipe.cjs';

interface QuickAnswer {
  text: string;
  code: number;
}

/** The build's answers by argv; none (and so the CLI answers) when the file was not built. */
function quickAnswers(): Record<string, QuickAnswer> {
  try {
    return JSON.parse(readFileSync(join(__dirname, 'quick-answers.json'), 'utf8')) as Record<string, QuickAnswer>;
  } catch {
    return {};
  }
}

stopQuietlyWhenOutputCloses();
const argv = process.argv.slice(2);
const key = argv.length === 0 ? '' : argv.length === 1 ? argv[0]! : undefined;
const answers = key === undefined ? {} : quickAnswers();
const quick = key !== undefined && Object.hasOwn(answers, key) ? answers[key] : undefined;
if (quick) {
  // Help and version need no redaction, no signal handling and no command module: print and stop.
  process.stdout.write(`${quick.text}\n`);
  process.exitCode = quick.code;
} else {
  void Promise.all([import('./cli.js'), import('./io.js')]).then(async ([{ runCli }, { processIo }]) => {
    process.exitCode = await runCli(argv, processIo());
  });
}
