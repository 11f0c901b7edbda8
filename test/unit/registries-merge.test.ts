/** The user's registries.yaml reaches the nodes unchanged, next to our own entries. */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { mergeRegistries } from '../../src/registries/merge.js';
import { serializeRegistries } from '../../src/render/registries-yaml.js';
import { checkRegistries } from '../../src/registries/strict.js';
import type { RegistriesConfig } from '../../src/registries/types.js';
import { schemaErrors } from '../helpers/schemas.js';

const examples = new URL('../fixtures/registries/examples/', import.meta.url);
const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
const load = (name: string) => parse(readFileSync(new URL(name, examples), 'utf8'), { version: '1.1' }) as RegistriesConfig;

const OURS: RegistriesConfig = {
  mirrors: { 'container-registry.local:5000': { endpoint: ['https://container-registry.local:5000'] } },
  configs: {
    'container-registry.local:5000': { auth: { username: 'devreg', password: 'not-a-real-one' }, tls: { ca_file: '/etc/k3s-devreg/ca.crt' } },
  },
};

/** What the docs examples lack: a wildcard, null entries, a rewrite with $1, every auth and TLS field. */
const EVERYTHING = `
mirrors:
  "*":
    endpoint: ["https://mirror.example.com"]
  docker.io:
  quay.io: ~
  gcr.io:
    endpoint:
      - https://gcr-mirror.example.com
      - http://localhost:5001
    rewrite:
      "^(.*)/(.*)$": "mirror/$1-$2"
      "^library/(.*)": "$1"
configs:
  "*":
    tls:
      insecure_skip_verify: true
  docker.io: {}
  gcr-mirror.example.com:
    auth: {username: u, password: p, auth: dTpw, identity_token: t}
    tls: {ca_file: /etc/ssl/certs/a.pem, cert_file: /etc/ssl/certs/c.pem, key_file: /etc/ssl/certs/k.pem, insecure_skip_verify: false}
  empty.example.com:
auths:
  legacy.example.com: {username: a, password: b}
`;

describe('mergeRegistries', () => {
  it('has the doc examples to test with', () => expect(files.length).toBeGreaterThanOrEqual(7));

  it.each(files)('passes %s through unchanged when we add nothing', (name) => {
    const theirs = load(name);
    expect(mergeRegistries({}, theirs)).toStrictEqual(theirs);
  });

  it.each(files)('keeps every entry of %s next to ours, and the result is a valid registries.yaml', (name) => {
    const theirs = load(name);
    const merged = mergeRegistries(OURS, theirs);
    for (const section of ['mirrors', 'configs'] as const) {
      for (const [key, value] of Object.entries(theirs[section] ?? {})) expect(merged[section]?.[key]).toStrictEqual(value);
      expect(Object.keys(merged[section] ?? {})).toStrictEqual([...Object.keys(theirs[section] ?? {}), ...Object.keys(OURS[section] ?? {})]);
    }
    expect(merged.mirrors?.['container-registry.local:5000']).toStrictEqual(OURS.mirrors?.['container-registry.local:5000']);
    expect(schemaErrors('registries', merged)).toStrictEqual([]);
    // and it survives being written for the nodes and read back (YAML 1.1, as k3s reads it)
    expect(parse(serializeRegistries(merged), { version: '1.1' })).toStrictEqual(merged);
  });

  it('keeps wildcards, null entries, rewrites with $1, and every auth and TLS field', () => {
    const theirs = parse(EVERYTHING, { version: '1.1' }) as RegistriesConfig;
    expect(checkRegistries(theirs, { strict: true, nodeVisibleDirs: ['/etc/ssl/certs'] }).warnings).toHaveLength(1); // auths is deprecated
    const merged = mergeRegistries(OURS, theirs);
    expect(mergeRegistries({}, theirs)).toStrictEqual(theirs);
    expect(merged.mirrors?.['*']).toStrictEqual({ endpoint: ['https://mirror.example.com'] });
    expect(merged.mirrors).toHaveProperty('docker.io', null);
    expect(merged.mirrors?.['gcr.io']?.rewrite).toStrictEqual({ '^(.*)/(.*)$': 'mirror/$1-$2', '^library/(.*)': '$1' });
    expect(merged.configs).toHaveProperty('empty.example.com', null);
    expect(merged.auths).toStrictEqual(theirs.auths);
    expect(schemaErrors('registries', merged)).toStrictEqual([]);
    const written = serializeRegistries(merged);
    expect(written).toContain('"*":');
    expect(parse(written, { version: '1.1' })).toStrictEqual(merged);
  });

  it('does not modify its inputs', () => {
    const theirs = parse(EVERYTHING, { version: '1.1' }) as RegistriesConfig;
    const before = structuredClone(theirs);
    mergeRegistries(OURS, theirs);
    expect(theirs).toStrictEqual(before);
  });

  it.each([
    ['mirrors', { mirrors: { 'container-registry.local:5000': { endpoint: ['http://elsewhere'] } } }],
    ['configs', { configs: { 'container-registry.local:5000': null } }],
    ['configs', { configs: { 'Container-Registry.LOCAL:5000': { tls: { insecure_skip_verify: true } } } }],
  ] as const)('refuses a clash with our %s entry and names the key', (section, theirs) => {
    const error = (() => {
      try {
        mergeRegistries(OURS, theirs as RegistriesConfig);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problem).toContain(`${section}.`);
    expect((error as UserError).problem).toMatch(/container-registry\.local:5000/i);
  });

  it('adds our entries when the user has an empty section', () => {
    const merged = mergeRegistries(OURS, { mirrors: null, configs: {} });
    expect(merged.mirrors).toStrictEqual(OURS.mirrors);
    expect(merged.configs).toStrictEqual(OURS.configs);
  });
});
