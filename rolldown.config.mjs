// `npm run build`, after tsc has compiled src/ to dist/.tsc: bundles the CLI into a few files in
// dist/ (node resolves and links some 50 small modules and yaml's 40 files more slowly than one
// bundle: start-up is benchmarked), then puts the CommonJS entry and the quick answers beside it.
// Dependencies other than yaml stay in node_modules: they load lazily, or are ES modules of their own.
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TSC = 'dist/.tsc';

export default {
  // write-quick-answers too: bundled, it finds package.json where the CLI will (assets.ts), and goes once run.
  input: { cli: `${TSC}/cli.js`, io: `${TSC}/io.js`, 'write-quick-answers': `${TSC}/write-quick-answers.js` },
  platform: 'node',
  external: (id) => /^[^./]/.test(id) && !/^yaml(\/|$)/.test(id),
  output: { dir: 'dist', format: 'esm', chunkFileNames: '[name]-[hash].js' },
  plugins: [
    {
      name: 'k3s-devreg-entry',
      writeBundle() {
        for (const file of ['bin.cjs', 'closed-pipe.cjs']) copyFileSync(`${TSC}/${file}`, `dist/${file}`);
        chmodSync('dist/bin.cjs', 0o755);
        execFileSync(process.execPath, ['dist/write-quick-answers.js', 'dist/quick-answers.json'], { stdio: 'inherit' });
        for (const path of [TSC, 'dist/write-quick-answers.js']) rmSync(path, { recursive: true, force: true });
      },
    },
  ],
};
