// `npm run build`, after tsc has compiled src/ to dist/.tsc: bundles the CLI into a few files in
// dist/ (node resolves and links some 50 small modules and yaml's 40 files more slowly than one
// bundle: start-up is benchmarked), then puts the CommonJS entry and the quick answers beside it.
// Dependencies other than yaml stay in node_modules: they load lazily, or are ES modules of their own.
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TSC = 'dist/.tsc';

export default {
  // write-quick-answers too: bundled, it finds package.json where the CLI will (assets.ts), and goes once run.
  input: { cli: `${TSC}/cli.js`, io: `${TSC}/io.js`, 'write-quick-answers': `${TSC}/write-quick-answers.js` },
  platform: 'node',
  external: (id) => /^[^./]/.test(id) && !/^yaml(\/|$)/.test(id),
  // yaml's ES module build (the same code; its node build is CommonJS, which cannot be tree-shaken):
  // a render that only writes YAML then loads no parser. It warns through console.warn, not
  // process.emitWarning: the same stderr line either way.
  resolve: { alias: { yaml: fileURLToPath(new URL('node_modules/yaml/browser/dist/index.js', import.meta.url)) } },
  output: { dir: 'dist', format: 'esm', chunkFileNames: '[name]-[hash].js' },
  plugins: [
    {
      // toYaml needs only yaml's Document: taking it from its own module, not through yaml's index
      // (which imports everything), keeps the parser out of the chunks a render loads.
      name: 'k3s-devreg-yaml-document',
      resolveId(id, importer) {
        if (id === 'yaml' && importer?.endsWith('/render/yaml-stream.js')) return fileURLToPath(new URL('node_modules/yaml/browser/dist/doc/Document.js', import.meta.url));
        return null;
      },
    },
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
