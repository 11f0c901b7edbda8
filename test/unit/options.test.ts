import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { checkGivenOptions, resolveClusterOptions, type Question } from '../../src/options.js';
import { captureIo } from '../helpers/io.js';

const home = mkdtempSync(join(tmpdir(), 'k3s-devreg-options-'));
const env = { K3S_DEVREG_HOME: home };

describe('resolveClusterOptions', () => {
  it('uses defaults with --yes and never prompts', async () => {
    let asked = false;
    const io = captureIo({ env, tty: true });
    const resolved = await resolveClusterOptions({ yes: true }, io, async () => {
      asked = true;
      return {};
    });
    expect(asked).toBe(false);
    expect(resolved.spec).toEqual({
      name: 'devreg',
      agents: 1,
      hostPort: 31113,
      username: 'devreg',
      registryImage: 'registry:2.8.3',
      hostsImage: 'busybox:1.36.1',
      k3sImage: 'rancher/k3s:v1.31.5-k3s1',
      stateDir: join(home, 'devreg'),
    });
    expect(resolved.password).toBeUndefined();
    expect(resolved.strict).toBe(true);
  });

  it('never prompts under CI=true or without a TTY', async () => {
    const ask = async (): Promise<Record<string, string>> => {
      throw new Error('must not prompt');
    };
    await resolveClusterOptions({}, captureIo({ env: { ...env, CI: 'true' }, tty: true }), ask);
    await resolveClusterOptions({}, captureIo({ env, tty: false }), ask);
  });

  it('asks only what flags and the team file leave open, and uses the answers', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'agents: 3\nregistriesFile: regs.yaml\n');
    let questions: Question[] = [];
    const resolved = await resolveClusterOptions({ name: 'team' }, captureIo({ env, cwd, tty: true }), async (q) => {
      questions = q;
      return { username: 'alice', password: 'hunter2hunter2', port: '5001' };
    });
    expect(questions.map((q) => q.name)).toEqual(['username', 'password', 'port']);
    expect(questions.find((q) => q.name === 'password')?.secret).toBe(true);
    expect(resolved.spec).toMatchObject({ name: 'team', agents: 3, username: 'alice', hostPort: 5001 });
    expect(resolved.password).toBe('hunter2hunter2');
    expect(resolved.registriesFile).toBe(join(cwd, 'regs.yaml'));
    expect(resolved.configFile).toBe(join(cwd, 'k3s-devreg.yaml'));
  });

  it('reports a bad flag or team-file value before asking anything', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    let asked = 0;
    const ask = async () => {
      asked++;
      return {};
    };
    await expect(resolveClusterOptions({ agents: 'x' }, captureIo({ env, cwd, tty: true }), ask)).rejects.toThrow('--agents expects a whole number, got "x"');
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'port: 70000\n');
    await expect(resolveClusterOptions({}, captureIo({ env, cwd, tty: true }), ask)).rejects.toThrow(/port/);
    await expect(checkGivenOptions({ name: 'Bad_Name' }, captureIo({ env, cwd }))).rejects.toThrow('invalid cluster name "Bad_Name"');
    await expect(checkGivenOptions({ 'registry-image': 'no spaces allowed' }, captureIo({ env, cwd: tmpdir() }))).rejects.toThrow(/--registry-image/);
    await expect(checkGivenOptions({ name: 'ok' }, captureIo({ env, cwd: tmpdir() }))).resolves.toBeUndefined();
    expect(asked).toBe(0);
  });

  it('finds the team file from a subfolder of the repository, as git finds .git', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'k3s-devreg-repo-'));
    writeFileSync(join(repo, 'k3s-devreg.yaml'), 'name: team\nregistriesFile: ci/registries.yaml\n');
    const sub = join(repo, 'services', 'api');
    mkdirSync(sub, { recursive: true });
    const resolved = await resolveClusterOptions({ yes: true }, captureIo({ env, cwd: sub }));
    expect(resolved.spec.name).toBe('team');
    expect(resolved.configFile).toBe(join(repo, 'k3s-devreg.yaml'));
    expect(resolved.registriesFile).toBe(join(repo, 'ci', 'registries.yaml'));
  });

  it('lets flags win over the team file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'name: fromfile\nagents: 3\nport: 40000\n');
    const resolved = await resolveClusterOptions({ agents: '0', yes: true }, captureIo({ env, cwd }));
    expect(resolved.spec).toMatchObject({ name: 'fromfile', agents: 0, hostPort: 40000 });
  });

  it('reads the password from stdin (one trailing newline stripped) or from K3S_DEVREG_PASSWORD', async () => {
    const fromStdin = await resolveClusterOptions({ 'password-stdin': true, yes: true }, captureIo({ env, stdin: 'p$a"ss w#rd: ü\n' }));
    expect(fromStdin.password).toBe('p$a"ss w#rd: ü');
    const fromEnv = await resolveClusterOptions({ yes: true }, captureIo({ env: { ...env, K3S_DEVREG_PASSWORD: 'envpass1' } }));
    expect(fromEnv.password).toBe('envpass1');
  });

  it('rejects bad input with one-line UserErrors', async () => {
    const io = captureIo({ env });
    await expect(resolveClusterOptions({ name: 'Bad_Name', yes: true }, io)).rejects.toThrow(/invalid cluster name/);
    await expect(resolveClusterOptions({ agents: 'two', yes: true }, io)).rejects.toThrow(/--agents expects a whole number/);
    await expect(resolveClusterOptions({ 'password-stdin': true, yes: true }, captureIo({ env, stdin: '' }))).rejects.toThrow(/empty/);
    await expect(resolveClusterOptions({ 'password-stdin': true, yes: true }, captureIo({ env, stdin: 'x'.repeat(73) }))).rejects.toThrow(/73 bytes/);
    await expect(resolveClusterOptions({ config: '/nonexistent/k.yaml', yes: true }, io)).rejects.toBeInstanceOf(UserError);
  });

  it('rejects unknown or mistyped fields in the team file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'agent: 2\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/unknown field "agent".*agents/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'agents: two\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/agents must be a number/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'name: [a\n');
    const error = (await resolveClusterOptions({ yes: true }, captureIo({ env, cwd })).catch((e: unknown) => e)) as UserError;
    expect(error.problem).toBe(`${join(cwd, 'k3s-devreg.yaml')} is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`);
    expect(error.message).not.toContain('\n');
  });
});

describe('the k3s image', () => {
  it('is pinned by default, and set by --k3s-image or k3sImage in the team file (the flag wins)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-k3s-'));
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).spec.k3sImage).toBe('rancher/k3s:v1.31.5-k3s1');
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'k3sImage: rancher/k3s:v1.30.9-k3s1\n');
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).spec.k3sImage).toBe('rancher/k3s:v1.30.9-k3s1');
    const flagged = await resolveClusterOptions({ yes: true, 'k3s-image': 'rancher/k3s:v1.32.1-k3s1' }, captureIo({ env, cwd }));
    expect(flagged.spec.k3sImage).toBe('rancher/k3s:v1.32.1-k3s1');
  });

  it.each([
    ['rancher/k3s:v1.29.3-k3s1'],
    ['rancher/k3s:v1.28.8-k3s1'],
    ['rancher/k3s:v1.27.12-k3s1'],
    ['mirror.example:5000/rancher/k3s:v1.26.15-k3s1'],
  ])('refuses %s, which ignores the registry CA (k3s issue 9839), naming the flag and the fix', async (image) => {
    const error = (await checkGivenOptions({ 'k3s-image': image }, captureIo({ env })).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.problem).toMatch(/^k3s v1\.\d+\.\d+ \(from --k3s-image\) ignores the registry CA .*issue 9839/);
    expect(error.fix).toBe('use a fixed k3s release, e.g. --k3s-image rancher/k3s:v1.31.5-k3s1 (the tested one)');
  });

  it('refuses a regressed k3s from the team file, naming the file and the field; neighbouring releases pass', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-k3s-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'k3sImage: rancher/k3s:v1.28.8-k3s1\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(`(from ${join(cwd, 'k3s-devreg.yaml')} (k3sImage))`);
    for (const ok of ['rancher/k3s:v1.28.9-k3s1', 'rancher/k3s:v1.29.4-k3s1', 'rancher/k3s:v1.29.30-k3s1', 'rancher/k3s:latest']) {
      await expect(checkGivenOptions({ 'k3s-image': ok }, captureIo({ env }))).resolves.toBeUndefined();
    }
  });
});
