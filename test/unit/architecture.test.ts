/**
 * The shape ARCHITECTURE.md describes, checked on the tree: every relative import in src/ (type
 * imports, re-exports and lazy `import()` included) goes to the same layer or one below, the
 * imports form no circle, no file is over the size limit, and every command keeps the one contract
 * (command-types.ts): it gets its dependencies, imports no other command, and only cli.ts prints results.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');
const MAX_LINES = 300;

/** Lowest first. A module may import from its own layer or any layer below it. */
const LAYERS: readonly { name: string; holds: (file: string) => boolean }[] = [
  // Top-level leaves (errors, redact, spec, io, assets, command types, Ask, helpers): everything else that is not named below.
  { name: 'base', holds: (f) => !f.includes('/') && !INPUTS.has(f) && !CLI.has(f) && f !== 'config-file.ts' && f !== 'command-types.ts' },
  { name: 'tools', holds: (f) => f.startsWith('tools/') },
  { name: 'render', holds: (f) => f.startsWith('render/') },
  { name: 'state and registries', holds: (f) => f.startsWith('state/') || f.startsWith('registries/') || f.startsWith('cache/') || f.startsWith('images/') || f.startsWith('doctor/') || f === 'config-file.ts' },
  { name: 'inputs and progress', holds: (f) => INPUTS.has(f) },
  { name: 'steps', holds: (f) => f.startsWith('steps/') },
  // The contract's types name the runner, clock and probes below, and only commands and the cli use them.
  { name: 'commands', holds: (f) => f.startsWith('commands/') || f === 'command-types.ts' },
  { name: 'cli', holds: (f) => CLI.has(f) },
];
const INPUTS = new Set(['options.ts', 'prompt.ts', 'progress.ts']);
const CLI = new Set(['bin.cts', 'write-quick-answers.ts', 'cli.ts', 'help.ts', 'command-table.ts', 'factory.ts']);

export interface Import {
  from: string;
  to: string;
  line: number;
}

function sourceFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path, base);
    return /\.c?ts$/.test(path) ? [relative(base, path).split('\\').join('/')] : [];
  });
}

// `import x from`, `import type {..} from`, `export {..} from`, `import './x.js'` and `import('./x.js')`.
const IMPORT = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative imports of one file's text, resolved to paths below src/. */
export function importsOf(file: string, text: string): Import[] {
  // Comments may quote an import; strings in code do not, in this tree.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(IMPORT)].map((match) => {
    const spec = (match[1] ?? match[2])!;
    const to = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts');
    return { from: file, to, line: code.slice(0, match.index).split('\n').length };
  });
}

export function layerOf(file: string): number {
  return LAYERS.findIndex((layer) => layer.holds(file));
}

/** Imports that go up a layer, as `from:line imports to (layer a imports layer b above it)`. */
export function upwardImports(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => layerOf(i.to) > layerOf(i.from))
    .map((i) => `src/${i.from}:${i.line} imports src/${i.to} (${LAYERS[layerOf(i.from)]!.name} imports ${LAYERS[layerOf(i.to)]!.name}, a layer above it)`);
}

/** Every circle, each as `a -> b -> ... -> a`, once (the strongly connected components, one path each). */
export function importCircles(imports: readonly Import[]): string[] {
  const graph = new Map<string, string[]>();
  for (const { from, to } of imports) graph.set(from, [...(graph.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    // One circle through the component's first file, found breadth-first inside the component.
    const inside = new Set(component);
    const start = [...component].sort()[0]!;
    const previous = new Map<string, string>();
    const queue = [start];
    let closing: string | undefined;
    while (queue.length > 0 && closing === undefined) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          closing = v;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = closing!; v !== start; v = previous.get(v)!) path.splice(1, 0, v);
    return `${[...path, start].map((f) => `src/${f}`).join(' -> ')} (${component.length} files in this circle: ${[...component].sort().join(', ')})`;
  });
}

const files = sourceFiles(SRC);
const imports = files.flatMap((file) => importsOf(file, readFileSync(join(SRC, file), 'utf8')));

describe('the layers of src/ (ARCHITECTURE.md)', () => {
  it('places every module in a layer', () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('finds the imports of every form', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {\n  c,\n  type D,\n} from "./c/d.js";',
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "// import { no } from './comment.js';",
      "/* import { no } from './block.js'; */",
      "import { readFile } from 'node:fs';",
    ].join('\n');
    expect(importsOf('steps/x.ts', text).map((i) => i.to)).toEqual(['steps/a.ts', 'b.ts', 'steps/c/d.ts', 'steps/e.ts', 'steps/f.ts', 'steps/g.ts', 'steps/h.ts']);
  });

  it('names an import that goes up a layer, and a circle', () => {
    const example = [
      { from: 'steps/a.ts', to: 'command-table.ts', line: 3 },
      { from: 'command-table.ts', to: 'commands/b.ts', line: 9 },
      { from: 'commands/b.ts', to: 'steps/a.ts', line: 1 },
    ];
    expect(upwardImports(example)).toEqual(['src/steps/a.ts:3 imports src/command-table.ts (steps imports cli, a layer above it)']);
    expect(importCircles(example)).toEqual([
      'src/command-table.ts -> src/commands/b.ts -> src/steps/a.ts -> src/command-table.ts (3 files in this circle: command-table.ts, commands/b.ts, steps/a.ts)',
    ]);
  });

  it('has no import from a layer above', () => {
    expect(upwardImports(imports)).toEqual([]);
  });

  it('has no import circle (type imports and import() included)', () => {
    expect(importCircles(imports)).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(SRC, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `src/${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('finds package files from import.meta.url in assets.ts only: the build bundles modules of every depth into dist/', () => {
    const found = files.filter((file) => file !== 'assets.ts' && /new URL\([^)]*import\.meta\.url/.test(readFileSync(join(SRC, file), 'utf8')));
    expect(found).toEqual([]);
  });
});

/** The command modules the table loads (`load: () => import('./commands/x.js')`), as paths below src/. */
export function commandModules(table: string): string[] {
  return importsOf('command-table.ts', table)
    .map((i) => i.to)
    .filter((to) => to.startsWith('commands/'));
}

/** Imports of one command module by another file in commands/, as `from:line imports to`. */
export function commandToCommand(imports: readonly Import[], commands: readonly string[]): string[] {
  return imports.filter((i) => i.from.startsWith('commands/') && commands.includes(i.to)).map((i) => `src/${i.from}:${i.line} imports the command src/${i.to}`);
}

const text = (file: string) => readFileSync(join(SRC, file), 'utf8');
const commands = commandModules(text('command-table.ts'));

describe('the command contract (command-types.ts)', () => {
  it('knows every command module from the table', () => {
    expect(commands).toEqual(['commands/up.ts', 'commands/down.ts', 'commands/reset.ts', 'commands/status.ts', 'commands/verify.ts', 'commands/render.ts', 'commands/registries.ts', 'commands/cache.ts', 'commands/images.ts', 'commands/doctor.ts']);
    expect(commandToCommand([{ from: 'commands/reset.ts', to: 'commands/up.ts', line: 4 }], commands)).toEqual(['src/commands/reset.ts:4 imports the command src/commands/up.ts']);
  });

  it('no command imports another command (what they share lives below, or in commands/inputs.ts)', () => {
    expect(commandToCommand(imports, commands)).toEqual([]);
  });

  it('every command exports main as a CommandMain, which gets its dependencies and returns an outcome', () => {
    expect(commands.filter((f) => !/^export const main: CommandMain = async \(/m.test(text(f)))).toEqual([]);
  });

  it('only the factory makes the real runner; commands use the one their Deps make', () => {
    const users = files.filter((f) => f !== 'tools/run.ts' && /\bcreateRunner\b/.test(text(f)));
    expect(users).toEqual(['factory.ts']);
  });

  it('nothing below the commands prints to stdout: results come back to the command, and cli.ts prints its outcome', () => {
    const below = files.filter((f) => layerOf(f) < layerOf('commands/up.ts') && f !== 'io.ts');
    expect(below.filter((f) => /\b(?:io|options\.io|ctx\.io)\.out\b/.test(text(f)))).toEqual([]);
  });

  it('nothing below the commands reads the parsed-options bag (ParsedOptions)', () => {
    const below = files.filter((f) => layerOf(f) < layerOf('commands/up.ts'));
    expect(below.filter((f) => /\bParsedOptions\b/.test(text(f)))).toEqual([]);
  });
});

describe("up's steps (steps/up-plan.ts)", () => {
  it('writes up-state.json in one place: steps return what to save, and only the plan saves it', () => {
    const callers = (name: string) => files.filter((f) => f !== 'steps/up-state.ts' && new RegExp(`\\b${name}\\(`).test(text(f)));
    expect(callers('writeUpState')).toEqual([]);
    expect(callers('saveUpState')).toEqual(['steps/up-plan.ts']);
  });

  it('no step re-checks at run time that an earlier step ran (the plan checks the order at compile time)', () => {
    const steps = files.filter((f) => /^steps\/up-(steps|plan|context)/.test(f));
    expect(steps).toContain('steps/up-steps-cluster.ts');
    expect(steps.filter((f) => /\brequireValue\(/.test(text(f)))).toEqual([]);
  });
});
