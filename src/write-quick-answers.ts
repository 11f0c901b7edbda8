/** Run by `npm run build` after tsc: the plain help and version answers bin.cts prints without loading the CLI. */
import { writeFileSync } from 'node:fs';
import { quickAnswers } from './help.js';

writeFileSync(new URL('./quick-answers.json', import.meta.url), `${JSON.stringify(quickAnswers(), null, 2)}\n`);
