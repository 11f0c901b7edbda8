/**
 * README claims, checked against the tool by running it (in-process, through runCli): the commands
 * it shows run in a clone (through npx), its examples work when copied as they are, and it names
 * the files the password is really in.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { captureIo } from '../helpers/io.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => forgetSecretsForTests());

const blocks = (lang: string): string[] => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const section = (heading: string): string => readme.split(/^## /m).find((s) => s.startsWith(heading))!;
const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();

describe('README', () => {
  it('shows every command of the tool through npx (there is no k3s-devreg on PATH in a clone)', () => {
    const shLines = blocks('sh').flatMap((b) => b.split('\n')).map((l) => l.replace(/#.*$/, ''));
    const inline = [...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
    const bare = [...shLines, ...inline].filter((text) => /(^|[|;&(]\s*)k3s-devreg\s+(up|down|reset|status|verify|render|registries|cache|images|doctor)\b/.test(text.trim()));
    expect(bare).toEqual([]);
  });

  it("runs the render example as written (the password from stdin, --json naming every file)", async () => {
    const line = section('`render`').split('\n').find((l) => l.includes('k3s-devreg render '))!;
    expect(line).toMatch(/^npx k3s-devreg render /);
    const [command, input] = line.replace(/^npx k3s-devreg /, '').split(' < ');
    const cwd = mkdtempSync(join(work, 'render-'));
    const io = captureIo({ cwd, env: { K3S_DEVREG_HOME: join(work, 'home') }, stdin: 'From-Stdin-Pass-1\n' });
    expect(input).toBe('password.txt');
    expect(await runCli(command!.split(' '), io), io.all()).toBe(0);
    const named = Object.values(JSON.parse(io.stdout.join('\n')) as Record<string, string | string[]>).flat();
    expect(named.map((p) => relative(cwd, p)).filter((p) => !p.startsWith('out/'))).toEqual([]);
  });

  it('names the files that hold the password in plain text, and only those', async () => {
    const dir = join(work, 'state');
    const io = captureIo({ cwd: work, env: { K3S_DEVREG_HOME: join(work, 'home'), K3S_DEVREG_PASSWORD: 'Plain-Text-Pass-42' } });
    expect(await runCli(['render', '--yes', '--dir', dir], io), io.all()).toBe(0);
    const holding = files(dir).filter((f) => readFileSync(join(dir, f), 'utf8').includes('Plain-Text-Pass-42'));
    // "The password is kept, mode 0600, in `a` and in `b` ...;": the files named before the first ';' or ':'.
    const claim = /The password is kept([^;:]*)[;:]/.exec(readme)![1]!;
    expect([...claim.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort()).toEqual(holding);
    for (const file of holding) expect((statSync(join(dir, file)).mode & 0o777).toString(8), file).toBe('600');
  });

  it('the team config example works copied as-is, found from a folder below it', async () => {
    const team = blocks('yaml').find((b) => b.startsWith('name: devreg'))!;
    const repo = mkdtempSync(join(work, 'team-'));
    writeFileSync(join(repo, 'k3s-devreg.yaml'), team);
    mkdirSync(join(repo, 'sub'));
    const io = captureIo({ cwd: join(repo, 'sub'), env: { K3S_DEVREG_HOME: join(work, 'home') } });
    expect(await runCli(['render', '--yes', '--dir', join(repo, 'out')], io), io.all()).toBe(0);
    expect(readFileSync(join(repo, 'out', 'k3d-config.yaml'), 'utf8')).toMatch(/^agents: 2$/m);
  });

  it('--config names the lookup the tool does: the nearest k3s-devreg.yaml, here or above', async () => {
    const io = captureIo();
    expect(await runCli(['up', '--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^ {2}-c, --config FILE +team config file \(default: the nearest k3s-devreg\.yaml, in this folder or above\)$/m);
  });
});
