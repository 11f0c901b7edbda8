/** Run by the build: writes the plain help and version answers, which bin.cts prints without loading the CLI, to the file named. */
import { writeFileSync } from 'node:fs';
import { quickAnswers } from './help.js';

const [target] = process.argv.slice(2);
if (!target) throw new Error('usage: node write-quick-answers.js OUTPUT.json');
writeFileSync(target, `${JSON.stringify(quickAnswers(), null, 2)}\n`);
