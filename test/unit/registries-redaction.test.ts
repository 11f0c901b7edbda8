/** Every diff and preview of a registries.yaml is free of secrets, old and new. */
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { forgetSecretsForTests, redact, REDACTED, registerSecret } from '../../src/redact.js';
import { redactedDiff } from '../../src/registries/redacted-diff.js';
import { registerConfigSecrets } from '../../src/registries/serialize.js';

// The last two sit under keys that are not auth fields (a typo'd `token`, an unknown key): --no-strict
// lets them through, and they are secrets all the same.
const OLD_SECRETS = ['old-user-4711', 'old-pass-Zq9!x', 'b2xkLXVzZXI6b2xkLXBhc3M=', 'old-identity-tok-1', 'mirror-pass-old', 's3cr3t-token-old', 'unknown-key-val-old'];
const NEW_SECRETS = ['new-user-0815', 'new-pass-Yw8?y', 'bmV3LXVzZXI6bmV3LXBhc3M=', 'new-identity-tok-2', 'mirror-pass-new', 's3cr3t-token-new', 'unknown-key-val-new'];

const file = ([user, pass, auth, token, urlPass, typo, unknown]: string[], endpoint: string) => `
# a comment that mentions ${pass} should never be shown
mirrors:
  docker.io:
    endpoint:
      - "${endpoint}"
      - "https://bot:${urlPass}@mirror.example.com"
configs:
  "registry.example.com:5000":
    auth:
      username: ${user}
      password: "${pass}"   # trailing comment ${pass}
      auth: ${auth}
      identity_token: |
        ${token}
    tls:
      insecure_skip_verify: false
  flow.example.com:
    auth: {username: ${user}, password: ${pass}}
  typo.example.com:
    auth:
      username: bob
      token: ${typo}
      bearer_secret: ${unknown}
      nothing: null
    tls: {insecure_skip_verify: true}
  typo-flow.example.com:
    auth: {username: bob, token: ${typo}, pin: [${unknown}]}
  unknown.example.com:
    extra:
      password: ${pass}
auths:
  legacy.example.com:
    username: ${user}
    tokn: ${typo}
    misc: {deeper: ${unknown}}
`;

const OLD = file(OLD_SECRETS, 'https://old-mirror.example.com');
const NEW = file(NEW_SECRETS, 'https://new-mirror.example.com');

function expectNoSecret(output: string) {
  for (const line of output.split('\n')) {
    for (const secret of [...OLD_SECRETS, ...NEW_SECRETS]) expect(line, `a secret leaked in: ${line}`).not.toContain(secret);
  }
}

describe('redactedDiff', () => {
  afterEach(() => forgetSecretsForTests());

  it('shows what changed, with every secret value redacted, old and new', () => {
    const output = redactedDiff(OLD, NEW, 'registries.yaml');
    expectNoSecret(output);
    expect(output).toContain('--- registries.yaml (current)');
    expect(output).toContain('+++ registries.yaml (new)');
    expect(output).toContain('-      - https://old-mirror.example.com');
    expect(output).toContain('+      - https://new-mirror.example.com');
    expect(output).toContain(`https://${REDACTED}@mirror.example.com`);
    // Secret lines compare equal once redacted, so the only change shown is the endpoint.
    expect(output.split('\n').filter((l) => /^[+-] /.test(l))).toHaveLength(2);
  });

  it('previews a new file, redacted', () => {
    const output = redactedDiff(undefined, NEW, 'registries.yaml');
    expectNoSecret(output);
    expect(output).toMatch(/^registries\.yaml: new file \(secrets redacted\):\n {2}mirrors:/);
    expect(output).toContain(`    flow.example.com:\n      auth:\n        username: ${REDACTED}\n        password: ${REDACTED}`);
    expect(output).toContain(`      extra:\n        password: ${REDACTED}`);
  });

  it('says so when nothing changed', () => {
    expect(redactedDiff(NEW, NEW, 'registries.yaml')).toBe('registries.yaml: unchanged');
  });

  it('says so when only secrets changed, without showing them', () => {
    const output = redactedDiff(OLD, file(NEW_SECRETS, 'https://old-mirror.example.com'), 'registries.yaml');
    expectNoSecret(output);
    expect(output).toMatch(/^registries\.yaml: only credentials changed \(values not shown\): /);
    expect(output).toContain('configs."registry.example.com:5000".auth.password');
    expect(output).toContain('configs."flow.example.com".auth.username');
  });

  it('names the credentials that changed next to other changes', () => {
    const output = redactedDiff(OLD, NEW, 'registries.yaml');
    expect(output).toContain('credentials changed (values not shown): configs."registry.example.com:5000".auth.username');
    expect(redactedDiff('a: 1\n', '# comment\na: 1\n', 'x')).toBe('x: only comments, formatting or redacted values changed');
  });

  it('shows nothing of a previous file that is not YAML', () => {
    const output = redactedDiff(`configs:\n  r: {auth: {password: ${OLD_SECRETS[1]}}\n  - [broken`, NEW, 'registries.yaml');
    expectNoSecret(output);
    expect(output).toContain('not valid YAML (not shown)');
  });

  it('also removes registered secrets that sit where no key says so', () => {
    registerSecret('hidden-in-a-hostname');
    const output = redactedDiff(undefined, 'mirrors:\n  hidden-in-a-hostname.example.com: null\n', 'registries.yaml');
    expect(output).not.toContain('hidden-in-a-hostname');
  });

  it('keeps nulls visible: they hold nothing', () => {
    expect(redactedDiff(undefined, 'configs:\n  r:\n    auth:\n      password: null\n', 'x')).toContain('password: null');
  });

  it('redacts every value under auth and auths whatever its key, keeping the keys and nulls', () => {
    const output = redactedDiff(undefined, NEW, 'registries.yaml');
    expectNoSecret(output);
    expect(output).toContain(`      auth:\n        username: ${REDACTED}\n        token: ${REDACTED}\n        bearer_secret: ${REDACTED}\n        nothing: null\n      tls:\n        insecure_skip_verify: true`);
    expect(output).toContain(`    legacy.example.com:\n      username: ${REDACTED}\n      tokn: ${REDACTED}\n      misc:\n        deeper: ${REDACTED}`);
    expect(output).not.toContain('bob');
  });

  it('names a changed typo\'d credential without showing it', () => {
    const output = redactedDiff(OLD, file(NEW_SECRETS, 'https://old-mirror.example.com'), 'registries.yaml');
    expectNoSecret(output);
    expect(output).toContain('configs."typo.example.com".auth.token');
    expect(output).toContain('configs."typo.example.com".auth.bearer_secret');
    expect(output).toContain('auths."legacy.example.com".misc.deeper');
  });
});

describe('registerConfigSecrets', () => {
  afterEach(() => forgetSecretsForTests());

  it('registers every value under auth and auths, whatever its key, so no log line can carry it', () => {
    registerConfigSecrets(parse(NEW, { version: '1.1' }));
    const line = NEW_SECRETS.filter((s) => !s.includes('user')).join(' ');
    expect(redact(line)).toBe(NEW_SECRETS.filter((s) => !s.includes('user')).map(() => REDACTED).join(' '));
    // A username is shown nowhere in a diff, but ordinary words like it are not hidden everywhere.
    expect(redact('bob')).toBe('bob');
  });
});
