/** k3s ignores typos without a word; the strict check names the path and the key k3s reads. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { loadRegistriesFile } from '../../src/registries/load.js';
import { checkRegistries } from '../../src/registries/strict.js';
import { recordingRunner } from '../helpers/recording-runner.js';

const VISIBLE = ['/etc/k3s-devreg', '/etc/ssl/certs'];
const strict = (value: unknown) => checkRegistries(value, { strict: true, nodeVisibleDirs: VISIBLE });
const lenient = (value: unknown) => checkRegistries(value, { strict: false, nodeVisibleDirs: VISIBLE });

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }
  throw new Error('expected a UserError');
}

const TYPOS: [string, unknown, string, string][] = [
  ['token', { configs: { 'r.example.com': { auth: { token: 'x' } } } }, 'configs."r.example.com".auth.token', 'identity_token'],
  ['endpoints', { mirrors: { 'docker.io': { endpoints: ['https://m'] } } }, 'mirrors."docker.io".endpoints', 'endpoint'],
  ['rewrites', { mirrors: { 'docker.io': { rewrites: { a: 'b' } } } }, 'mirrors."docker.io".rewrites', 'rewrite'],
  ['insecureSkipVerify', { configs: { r: { tls: { insecureSkipVerify: true } } } }, 'configs.r.tls.insecureSkipVerify', 'insecure_skip_verify'],
  ['caFile', { configs: { r: { tls: { caFile: '/etc/k3s-devreg/ca.crt' } } } }, 'configs.r.tls.caFile', 'ca_file'],
  ['certFile', { configs: { r: { tls: { certFile: '/etc/ssl/certs/c.pem' } } } }, 'configs.r.tls.certFile', 'cert_file'],
  ['keyFile', { configs: { r: { tls: { keyFile: '/etc/ssl/certs/k.pem' } } } }, 'configs.r.tls.keyFile', 'key_file'],
  ['identityToken', { configs: { r: { auth: { identityToken: 'x' } } } }, 'configs.r.auth.identityToken', 'identity_token'],
  ['passwrod', { configs: { r: { auth: { passwrod: 'x' } } } }, 'configs.r.auth.passwrod', 'password'],
  ['mirror', { mirror: { 'docker.io': null } }, 'mirror', 'mirrors'],
  ['insecure-skip-verify', { configs: { r: { tls: { 'insecure-skip-verify': true } } } }, 'configs.r.tls."insecure-skip-verify"', 'insecure_skip_verify'],
];

describe('checkRegistries', () => {
  it.each(TYPOS)('catches %s with its path and the right key', (_, value, path, fix) => {
    const message = problemOf(() => strict(value));
    expect(message).toContain(`${path}: unknown key`);
    expect(message).toContain(`did you mean ${fix}?`);
    expect(message).toContain('--no-strict');
  });

  it.each(TYPOS)('only warns about %s with --no-strict', (_, value, path, fix) => {
    const { warnings } = lenient(value);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toContain(`did you mean ${fix}?`);
  });

  it('says where a key belongs when it is at the wrong level', () => {
    expect(problemOf(() => strict({ mirrors: { 'docker.io': { tls: { insecure_skip_verify: true } } } }))).toContain(
      'tls belongs under configs.<host:port>',
    );
  });

  it('lists every problem at once, in one line', () => {
    const message = problemOf(() => strict({ mirrors: { a: { endpoints: [] } }, configs: { b: { auth: { token: 'x' } }, c: { tls: { insecure_skip_verify: 'yes' } } } }));
    expect(message).toBe(
      'the registries file has 3 problems: ' +
        '(1) mirrors.a.endpoints: unknown key, which k3s ignores without a word (did you mean endpoint?); ' +
        '(2) configs.b.auth.token: unknown key, which k3s ignores without a word (did you mean identity_token?); ' +
        '(3) configs.c.tls.insecure_skip_verify: must be true or false: ' +
        'fix them, or pass --no-strict to only warn about unknown keys and paths the nodes may not see',
    );
    expect(problemOf(() => lenient({ configs: { r: { auth: { password: 1234 } } } }))).toBe(
      'the registries file has 1 problem: configs.r.auth.password: must be a string (quote the value in YAML): fix it (k3s would fail to read the file)',
    );
  });

  it('suggests from the keys of the level the typo is at, never the typo itself', () => {
    // configs.<host> is a $ref'd definition: its keys are auth and tls, not the top level's auths.
    expect(problemOf(() => strict({ configs: { r: { auths: { username: 'u' } } } }))).toContain('configs.r.auths: unknown key, which k3s ignores without a word (did you mean auth?)');
    expect(problemOf(() => strict({ mirrors: { m: { endpoint: [], rewrites: {} } } }))).toContain('(did you mean rewrite?)');
  });

  it('accepts valid files, nulls and wildcards without a word', () => {
    expect(strict({ mirrors: { '*': null, 'docker.io': { endpoint: null, rewrite: null } }, configs: { '*': { auth: null, tls: null } } }).warnings).toStrictEqual([]);
    expect(strict(null).warnings).toStrictEqual([]);
  });

  it.each([
    ['/etc/company/ca.pem', 'not known to exist on the nodes'],
    ['ca.pem', 'must be an absolute path on the node'],
    ['/etc/k3s-devreg/../shadow', 'not known to exist on the nodes'],
  ])('catches ca_file %s outside the folders the nodes see', (file, message) => {
    const value = { configs: { r: { tls: { ca_file: file } } } };
    expect(problemOf(() => strict(value))).toContain(`configs.r.tls.ca_file: ${message === 'not known to exist on the nodes' ? `${file} is ` : ''}${message}`);
    expect(lenient(value).warnings.join('\n')).toContain(message);
  });

  it('accepts ca_file, cert_file and key_file inside visible folders, and single visible files', () => {
    const tls = { ca_file: '/etc/k3s-devreg/ca.crt', cert_file: '/etc/ssl/certs/c.pem', key_file: '/etc/ssl/certs/k.pem' };
    expect(strict({ configs: { r: { tls } } }).warnings).toStrictEqual([]);
    const onlyFile = { strict: true, nodeVisibleDirs: ['/etc/k3s-devreg/ca.crt'] };
    expect(checkRegistries({ configs: { r: { tls: { ca_file: '/etc/k3s-devreg/ca.crt' } } } }, onlyFile).warnings).toStrictEqual([]);
    expect(() => checkRegistries({ configs: { r: { tls: { ca_file: '/etc/k3s-devreg/other.crt' } } } }, onlyFile)).toThrow(UserError);
  });

  it('keeps wrong types fatal even with --no-strict (k3s would fail to parse them)', () => {
    const message = problemOf(() => lenient({ mirrors: { 'docker.io': { endpoint: 'https://m' } } }));
    expect(message).toContain('mirrors."docker.io".endpoint: must be a list');
    expect(problemOf(() => lenient({ configs: { r: { auth: { password: 1234 } } } }))).toContain('must be a string (quote the value in YAML)');
  });

  it('never echoes a value in its messages', () => {
    const message = problemOf(() => strict({ configs: { r: { auth: { password: 987654321, token: 'tok-abcdef-123' } } } }));
    expect(message).not.toContain('987654321');
    expect(message).not.toContain('tok-abcdef-123');
  });

  it('flags schemes in keys, unpaired client certificates, and $VARIABLES k3s will not expand', () => {
    expect(problemOf(() => strict({ configs: { 'https://r.example.com': null } }))).toContain('without a scheme');
    expect(problemOf(() => strict({ configs: { r: { tls: { cert_file: '/etc/ssl/certs/c.pem' } } } }))).toContain('cert_file and key_file go together');
    expect(strict({ configs: { r: { auth: { password: '$REG_PASS' } } } }).warnings.join()).toContain('{fromEnv: NAME}');
  });
});

describe('loadRegistriesFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-strict-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const options = { strict: true, nodeVisibleDirs: VISIBLE, runner: recordingRunner(), env: {} };

  it('names the line of each problem', async () => {
    const file = write('typo.yaml', 'mirrors:\n  docker.io:\n    endpoints:\n      - https://m\nconfigs:\n  r:\n    auth:\n      token: x\n');
    const error = await loadRegistriesFile(file, options).catch((e: unknown) => e);
    const message = (error as UserError).message;
    expect(message).toContain(`${file} has 2 problems: (1) mirrors."docker.io".endpoints (line 3): unknown key`);
    expect(message).toContain('; (2) configs.r.auth.token (line 8): unknown key');
    expect(message).toMatch(/: fix them, or pass --no-strict [^\n]*$/);
    expect(message).not.toContain('\n');
  });

  it('reports a YAML syntax error with its line', async () => {
    const file = write('broken.yaml', 'mirrors:\n  docker.io:\n    endpoint: [https://m\nconfigs: {}\n');
    const error = await loadRegistriesFile(file, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problem).toMatch(/not valid YAML at line \d+, column \d+/);
  });

  it('reads YAML 1.1 like k3s: yes is a boolean, a quoted "yes" a string', async () => {
    const file = write('yes.yaml', 'configs:\n  r:\n    auth:\n      password: "yes"\n    tls:\n      insecure_skip_verify: yes\n');
    const { config } = await loadRegistriesFile(file, options);
    expect(config.configs?.r?.tls?.insecure_skip_verify).toBe(true);
    expect(config.configs?.r?.auth?.password).toBe('yes');
  });

  it('treats an empty file as an empty configuration and a missing one as a clear error', async () => {
    expect((await loadRegistriesFile(write('empty.yaml', ''), options)).config).toStrictEqual({});
    const error = await loadRegistriesFile(join(dir, 'nope.yaml'), options).catch((e: unknown) => e);
    expect((error as UserError).problem).toContain('ENOENT');
  });
});
