import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { Question } from '../../src/ask.js';
import { loadGivenOptions, resolveClusterOptions } from '../../src/options.js';
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
      // On by default: docker.io through the shared pull-through cache.
      cache: { upstreams: [{ host: 'docker.io', remoteUrl: 'https://registry-1.docker.io' }] },
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
    writeFileSync(join(cwd, 'regs.yaml'), 'mirrors: {}\n');
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

  it("a bad answer at a prompt says what to answer, not which flag to pass", async () => {
    const asked: Question[] = [];
    await resolveClusterOptions({}, captureIo({ env, cwd: tmpdir(), tty: true }), async (q): Promise<Record<string, string>> => {
      asked.push(...q);
      return q[0]?.name === 'name' ? { name: 'devreg' } : { agents: '1', username: 'devreg', password: '', port: '31113' };
    });
    const check = (name: string, value: string) => asked.find((q) => q.name === name)!.validate!(value);
    expect(check('name', 'Bad_Name')).toMatch(/^invalid cluster name "Bad_Name": answer with 1-\d+ lowercase letters/);
    expect(check('agents', 'two')).toBe('not a whole number: "two": answer with a whole number, e.g. 1');
    expect(check('agents', '12')).toBe('invalid number of agents 12: answer with a whole number from 0 to 9');
    expect(check('port', '99999')).toBe('invalid port 99999: answer with a whole number from 1 to 65535 (default 31113)');
    expect(check('username', 'a:b')).toMatch(/: answer with a username without ':'$/);
    expect(check('name', 'devreg')).toBe(true);
    expect(asked.map((q) => String(q.validate?.('--x') ?? '')).join('\n')).not.toMatch(/pass --/);
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
    await expect(loadGivenOptions({ name: 'Bad_Name' }, captureIo({ env, cwd: tmpdir() }))).rejects.toThrow('invalid cluster name "Bad_Name"');
    await expect(loadGivenOptions({ registryImage: 'no spaces allowed' }, captureIo({ env, cwd: tmpdir() }))).rejects.toThrow(/--registry-image/);
    await expect(loadGivenOptions({ name: 'ok' }, captureIo({ env, cwd: tmpdir() }))).resolves.toHaveProperty('config');
    expect(asked).toBe(0);
  });

  it('finds the team file from a subfolder of the repository, as git finds .git', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'k3s-devreg-repo-'));
    writeFileSync(join(repo, 'k3s-devreg.yaml'), 'name: team\nregistriesFile: ci/registries.yaml\n');
    const sub = join(repo, 'services', 'api');
    mkdirSync(sub, { recursive: true });
    mkdirSync(join(repo, 'ci'));
    writeFileSync(join(repo, 'ci', 'registries.yaml'), 'mirrors: {}\n');
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
    const fromStdin = await resolveClusterOptions({ passwordStdin: true, yes: true }, captureIo({ env, stdin: 'p$a"ss w#rd: ü\n' }));
    expect(fromStdin.password).toBe('p$a"ss w#rd: ü');
    const fromEnv = await resolveClusterOptions({ yes: true }, captureIo({ env: { ...env, K3S_DEVREG_PASSWORD: 'envpass1' } }));
    expect(fromEnv.password).toBe('envpass1');
  });

  it('rejects bad input with one-line UserErrors', async () => {
    const io = captureIo({ env });
    await expect(resolveClusterOptions({ name: 'Bad_Name', yes: true }, io)).rejects.toThrow(/invalid cluster name/);
    await expect(resolveClusterOptions({ agents: 'two', yes: true }, io)).rejects.toThrow(/--agents expects a whole number/);
    await expect(resolveClusterOptions({ passwordStdin: true, yes: true }, captureIo({ env, stdin: '' }))).rejects.toThrow(/empty/);
    await expect(resolveClusterOptions({ passwordStdin: true, yes: true }, captureIo({ env, stdin: 'x'.repeat(73) }))).rejects.toThrow(/73 bytes/);
    await expect(resolveClusterOptions({ config: '/nonexistent/k.yaml', yes: true }, io)).rejects.toBeInstanceOf(UserError);
  });

  it('rejects unknown or mistyped fields in the team file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'agent: 2\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/unknown field "agent": did you mean agents\? \(fields: name, agents, /);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'colour: blue\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/unknown field "colour": use one of name, agents, /);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'agents: two\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/agents must be a number: e\.g\. agents: 1$/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'port: 31113x\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/port must be a number: e\.g\. port: 31113$/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'images: ghcr.io/me/app:1\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/images must be a list of image names/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'images: [ghcr.io/me/app:1, "bad image"]\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(/bad image/);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'images: [ghcr.io/me/app:1]\noffline: false\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).resolves.toMatchObject({ spec: { name: 'devreg' } });
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
    const flagged = await resolveClusterOptions({ yes: true, k3sImage: 'rancher/k3s:v1.32.1-k3s1' }, captureIo({ env, cwd }));
    expect(flagged.spec.k3sImage).toBe('rancher/k3s:v1.32.1-k3s1');
  });

  it.each([
    ['rancher/k3s:v1.29.3-k3s1'],
    ['rancher/k3s:v1.28.8-k3s1'],
    ['rancher/k3s:v1.27.12-k3s1'],
    ['mirror.example:5000/rancher/k3s:v1.26.15-k3s1'],
  ])('refuses %s, which ignores the registry CA (k3s issue 9839), naming the flag and the fix', async (image) => {
    const error = (await loadGivenOptions({ k3sImage: image }, captureIo({ env })).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.problem).toMatch(/^k3s v1\.\d+\.\d+ \(from --k3s-image\) ignores the registry CA .*issue 9839/);
    expect(error.fix).toBe('use a fixed k3s release, e.g. --k3s-image rancher/k3s:v1.31.5-k3s1 (the tested one)');
  });

  it('refuses a regressed k3s from the team file, naming the file and the field; neighbouring releases pass', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-k3s-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'k3sImage: rancher/k3s:v1.28.8-k3s1\n');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd }))).rejects.toThrow(`(from ${join(cwd, 'k3s-devreg.yaml')} (k3sImage))`);
    for (const ok of ['rancher/k3s:v1.28.9-k3s1', 'rancher/k3s:v1.29.4-k3s1', 'rancher/k3s:v1.29.30-k3s1', 'rancher/k3s:latest']) {
      await expect(loadGivenOptions({ k3sImage: ok }, captureIo({ env }))).resolves.toHaveProperty('config');
    }
  });
});

describe('where a value came from', () => {
  it('a bad port in a team file two folders up names the file and the field, not --port', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'k3s-devreg-repo-'));
    writeFileSync(join(repo, 'k3s-devreg.yaml'), 'port: 99999\n');
    const deep = join(repo, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const file = join(repo, 'k3s-devreg.yaml');
    for (const run of [() => loadGivenOptions({}, captureIo({ env, cwd: deep })), () => resolveClusterOptions({ yes: true }, captureIo({ env, cwd: deep }))]) {
      const error = (await run().catch((e: unknown) => e)) as UserError;
      expect(error.problem).toBe(`invalid port 99999 (port in ${file})`);
      expect(error.fix).toBe(`set port in ${file} to a whole number from 1 to 65535 (default 31113)`);
    }
  });

  it.each([
    ['agents: 12\n', /invalid number of agents 12 \(agents in .*\): set agents in .* to a whole number from 0 to 9/],
    ['name: Bad_Name\n', /invalid cluster name "Bad_Name" \(name in .*\): set name in .*k3s-devreg.yaml to 1-32 lowercase/],
    ['username: "a:b"\n', /\(username in .*k3s-devreg.yaml\).*set username in .*k3s-devreg.yaml to a username without ':'/],
    ['registryImage: "not an image"\n', /invalid image reference "not an image" \(registryImage in .*\): set registryImage in/],
    ['registriesFile: ""\n', /k3s-devreg.yaml: field registriesFile is empty: give registriesFile a value, or remove the line/],
  ])('team file %j: the file and the field', async (yaml, message) => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), yaml);
    const error = (await resolveClusterOptions({ yes: true }, captureIo({ env, cwd })).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/pass --/);
  });

  it('a missing registries file names where its path came from', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    await expect(loadGivenOptions({ registriesFile: 'nope.yaml' }, captureIo({ env, cwd }))).rejects.toThrow(
      `the registries file ${join(cwd, 'nope.yaml')} (from --registries-file) does not exist: check the path (relative to the current folder)`,
    );
    const sub = join(cwd, 'sub');
    mkdirSync(sub);
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'registriesFile: ci/regs.yaml\n');
    const file = join(cwd, 'k3s-devreg.yaml');
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env, cwd: sub }))).rejects.toThrow(
      `the registries file ${join(cwd, 'ci', 'regs.yaml')} (from registriesFile in ${file}) does not exist: check registriesFile in ${file} (relative to that file's folder)`,
    );
  });

  it('a state folder k3d cannot mount names where it came from', async () => {
    await expect(resolveClusterOptions({ yes: true, dir: '/tmp/a b' }, captureIo({ env }))).rejects.toThrow(/"\/tmp\/a b" \(from --dir\) contains .*: choose another --dir$/);
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env: { K3S_DEVREG_HOME: '/tmp/x:y' } }))).rejects.toThrow(/\(from K3S_DEVREG_HOME\) contains .*: set K3S_DEVREG_HOME to a plain path/);
  });

  it('an empty K3S_DEVREG_PASSWORD is named as the source', async () => {
    await expect(resolveClusterOptions({ yes: true }, captureIo({ env: { ...env, K3S_DEVREG_PASSWORD: '' } }))).rejects.toThrow(
      'the registry password (from K3S_DEVREG_PASSWORD) is empty',
    );
  });
});

describe('one source per secret, no empty paths, absolute state roots', () => {
  it('refuses --password-stdin together with K3S_DEVREG_PASSWORD, naming both, before reading stdin', async () => {
    const io = captureIo({ env: { ...env, K3S_DEVREG_PASSWORD: 'from-env-1' }, stdin: 'from-stdin-1\n' });
    for (const run of [() => resolveClusterOptions({ passwordStdin: true, yes: true }, io), () => loadGivenOptions({ passwordStdin: true }, io)]) {
      const error = (await run().catch((e: unknown) => e)) as UserError;
      expect(error).toBeInstanceOf(UserError);
      expect(error.problem).toBe('both --password-stdin and K3S_DEVREG_PASSWORD give the registry password');
      expect(error.fix).toBe('use one of them: drop --password-stdin, or unset K3S_DEVREG_PASSWORD');
    }
  });

  it.each([
    ['dir', 'dir'],
    ['config', 'config'],
    ['registries-file', 'registriesFile'],
  ])('refuses --%s "" instead of taking the default', async (flag, key) => {
    await expect(resolveClusterOptions({ [key]: '', yes: true }, captureIo({ env }))).rejects.toThrow(`--${flag} is empty: give --${flag} a path`);
    await expect(loadGivenOptions({ [key]: '' }, captureIo({ env }))).rejects.toThrow(`--${flag} is empty`);
  });

  it('refuses a relative K3S_DEVREG_HOME (it was taken from the current folder)', async () => {
    for (const home of ['state', './state', '../x']) {
      const io = captureIo({ env: { K3S_DEVREG_HOME: home }, cwd: tmpdir() });
      const error = (await resolveClusterOptions({ yes: true }, io).catch((e: unknown) => e)) as UserError;
      expect(error).toBeInstanceOf(UserError);
      expect(error.problem).toBe(`K3S_DEVREG_HOME must be an absolute path, got ${JSON.stringify(home)}`);
      await expect(loadGivenOptions({}, io)).rejects.toThrow('K3S_DEVREG_HOME must be an absolute path');
    }
    // An empty one is unset, as for most variables.
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env: { K3S_DEVREG_HOME: '' } }))).spec.stateDir).toMatch(/\.k3s-devreg\/devreg$/);
  });
});

describe('saved answers (settings.json in the state folder)', () => {
  const saveAnswers = (root: string, cluster: string, settings: object) => {
    mkdirSync(join(root, cluster), { recursive: true });
    writeFileSync(join(root, cluster, 'settings.json'), JSON.stringify(settings));
  };

  it('are what --yes uses; flags and the team file still win; they are the questions\' defaults', async () => {
    const root = mkdtempSync(join(tmpdir(), 'k3s-devreg-saved-'));
    const envs = { K3S_DEVREG_HOME: root };
    saveAnswers(root, 'devreg', { name: 'devreg', agents: 2, username: 'alice', port: 5001, k3sImage: 'rancher/k3s:v1.30.9-k3s1' });
    const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-team-'));
    const yes = await resolveClusterOptions({ yes: true }, captureIo({ env: envs, cwd }));
    expect(yes.spec).toMatchObject({ agents: 2, username: 'alice', hostPort: 5001, k3sImage: 'rancher/k3s:v1.30.9-k3s1', registryImage: 'registry:2.8.3' });
    const flagged = await resolveClusterOptions({ yes: true, agents: '1', k3sImage: 'rancher/k3s:v1.31.5-k3s1' }, captureIo({ env: envs, cwd }));
    expect(flagged.spec).toMatchObject({ agents: 1, username: 'alice', k3sImage: 'rancher/k3s:v1.31.5-k3s1' });
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'username: team-user\n');
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env: envs, cwd }))).spec).toMatchObject({ agents: 2, username: 'team-user' });

    let questions: Question[] = [];
    const asked = await resolveClusterOptions({ name: 'devreg' }, captureIo({ env: envs, cwd: tmpdir(), tty: true }), async (q) => {
      questions = q;
      return Object.fromEntries(q.map((x) => [x.name, x.default]));
    });
    expect(Object.fromEntries(questions.map((q) => [q.name, q.default]))).toEqual({ agents: '2', username: 'alice', password: '', port: '5001' });
    expect(asked.spec).toMatchObject({ agents: 2, username: 'alice', hostPort: 5001 });
  });

  it('the name is asked first; the answers saved in that cluster\'s folder are the defaults of the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'k3s-devreg-saved-'));
    saveAnswers(root, 'other', { name: 'other', agents: 3, username: 'bob' });
    // The saved name of a folder does not pick a folder: the default cluster's folder has none.
    saveAnswers(root, 'devreg', { name: 'other', agents: 0 });
    const calls: Question[][] = [];
    const resolved = await resolveClusterOptions({}, captureIo({ env: { K3S_DEVREG_HOME: root }, cwd: tmpdir(), tty: true }), async (q) => {
      calls.push(q);
      return q[0]?.name === 'name' ? { name: 'other' } : Object.fromEntries(q.map((x) => [x.name, x.default]));
    });
    expect(calls.map((q) => q.map((x) => x.name))).toEqual([['name'], ['agents', 'username', 'password', 'port']]);
    expect(calls[1]!.find((q) => q.name === 'agents')?.default).toBe('3');
    expect(resolved.spec).toMatchObject({ name: 'other', agents: 3, username: 'bob', hostPort: 31113, stateDir: join(root, 'other') });
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env: { K3S_DEVREG_HOME: root }, cwd: tmpdir() }))).spec).toMatchObject({ name: 'devreg', agents: 0 });
  });

  it('a state folder from before settings.json keeps its username from credentials.json', async () => {
    const root = mkdtempSync(join(tmpdir(), 'k3s-devreg-saved-'));
    mkdirSync(join(root, 'devreg'));
    writeFileSync(join(root, 'devreg', 'credentials.json'), JSON.stringify({ username: 'carol', password: 'kept-password-1' }));
    expect((await resolveClusterOptions({ yes: true }, captureIo({ env: { K3S_DEVREG_HOME: root }, cwd: tmpdir() }))).spec.username).toBe('carol');
  });
});
