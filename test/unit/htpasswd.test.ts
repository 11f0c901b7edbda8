import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { htpasswdEntry, htpasswdMatches } from '../../src/render/htpasswd.js';

interface Vector { user?: string; password: string | { utf8?: string; hex?: string } | null; hash: string; registry_accepts?: boolean }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/htpasswd/bcrypt-htpasswd-vectors.json', import.meta.url), 'utf8')) as {
  distribution_registry_tests: { vectors: Vector[]; parse_cases: { input: string; entries?: Record<string, string>; error?: string }[] };
  golang_x_crypto_bcrypt_tests: { vectors: Vector[] };
  pyca_bcrypt_tests: { vectors_2b_2a: Vector[]; vectors_2y: Vector[] };
};

/** The password as a JS string, or undefined when it is not valid UTF-8 (our API takes strings). */
function passwordOf(vector: Vector): string | undefined {
  const p = vector.password;
  if (p === null) return undefined;
  if (typeof p === 'string') return p;
  if (p.utf8 !== undefined) return p.utf8;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(p.hex ?? '', 'hex'));
  } catch {
    return undefined;
  }
}

const all: Vector[] = [
  ...fixture.distribution_registry_tests.vectors,
  ...fixture.golang_x_crypto_bcrypt_tests.vectors,
  ...fixture.pyca_bcrypt_tests.vectors_2b_2a,
  ...fixture.pyca_bcrypt_tests.vectors_2y,
];
// The registry logs in with any $2a$/$2b$/$2y$ bcrypt hash; the fixture marks the entries it refuses.
const accepted = all.filter((v) => v.registry_accepts !== false && /^\$2[aby]\$/.test(v.hash) && passwordOf(v) !== undefined);
const refused = all.filter((v) => v.registry_accepts === false);

describe('htpasswdMatches against the known-answer vectors', () => {
  it('uses most of the fixture (the filter must not silently drop it)', () => {
    expect(accepted.length).toBeGreaterThanOrEqual(28);
    expect(refused.length).toBe(2);
    // Left out only: passwords a JS string cannot carry (null, or bytes that are not UTF-8).
    const left = all.filter((v) => !accepted.includes(v) && !refused.includes(v));
    expect(left.map(passwordOf)).toEqual(left.map(() => undefined));
  });

  it.each(accepted.map((v) => [v.hash, v] as const))('accepts %s with its password and rejects wrong ones', (_hash, vector) => {
    const user = vector.user ?? 'someone';
    const password = passwordOf(vector)!;
    const file = `# a comment\n${user}:${vector.hash}\n`;
    expect(htpasswdMatches(file, user, password)).toBe(true);
    expect(htpasswdMatches(file, user, `${password}x`)).toBe(false);
    expect(htpasswdMatches(file, user, password.slice(0, -1) || 'x')).toBe(false);
    expect(htpasswdMatches(file, `${user}2`, password)).toBe(false);
  });

  it('refuses entries the registry refuses (SHA-1, plaintext) even with the right password', () => {
    for (const vector of refused) {
      expect(htpasswdMatches(`${vector.user}:${vector.hash}\n`, vector.user!, passwordOf(vector)!)).toBe(false);
    }
  });
});

describe('htpasswdMatches reads the file like the registry', () => {
  const frodo = 'frodo:$2y$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W';

  it('follows the upstream parse cases', () => {
    for (const c of fixture.distribution_registry_tests.parse_cases) {
      // A file the registry cannot parse logs nobody in, even a user whose own line is fine.
      expect(htpasswdMatches(`${frodo}\n${c.input}`, 'frodo', 'baggins')).toBe(c.error === undefined);
    }
  });

  it('skips comments and blank lines, trims whitespace and CRLF, and splits at the first colon', () => {
    expect(htpasswdMatches(`\n  \n# ${frodo}\n`, 'frodo', 'baggins')).toBe(false);
    expect(htpasswdMatches(`\r\n  ${frodo}  \r\n`, 'frodo', 'baggins')).toBe(true);
    expect(htpasswdMatches(`# ${frodo}\n  #x\n${frodo}`, 'frodo', 'baggins')).toBe(true);
    expect(htpasswdMatches(frodo.replace('frodo:', 'frodo :'), 'frodo', 'baggins')).toBe(false);
    // Go's TrimSpace, not String.prototype.trim: U+0085 is space there, U+FEFF is not.
    expect(htpasswdMatches(`${frodo}\u0085`, 'frodo', 'baggins')).toBe(true);
    expect(htpasswdMatches(`\uFEFF${frodo}`, 'frodo', 'baggins')).toBe(false);
    expect(htpasswdMatches(frodo.replace('frodo:', 'fro:do:'), 'fro', 'baggins')).toBe(false);
  });

  it('lets the last entry for a user win, as the registry map does', () => {
    const other = htpasswdEntry('frodo', 'ring bearer', 4);
    expect(htpasswdMatches(`${frodo}\n${other}`, 'frodo', 'ring bearer')).toBe(true);
    expect(htpasswdMatches(`${frodo}\n${other}`, 'frodo', 'baggins')).toBe(false);
    expect(htpasswdMatches(`${other}${frodo}\n`, 'frodo', 'baggins')).toBe(true);
  });

  it('rejects malformed bcrypt hashes without throwing', () => {
    for (const hash of ['$2a$10$fooo', '$2a', '$3a$10$sssssssssssssssssssssshhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh', '$2a$32$sssssssssssssssssssssshhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh', '']) {
      expect(htpasswdMatches(`u:${hash}\n`, 'u', 'x')).toBe(false);
    }
  });
});

describe('htpasswdEntry', () => {
  const awkward = ['p$a"ss w#rd:\\ü€', ' leading and trailing ', "it's `$(whoami)` ${HOME} 'q'", '€'.repeat(24), 'a'.repeat(72)];

  it('writes one user:$2y$ line with a newline, at cost 5 by default (Apache htpasswd -B default)', () => {
    const line = htpasswdEntry('devreg', 'secret-password');
    expect(line).toMatch(/^devreg:\$2y\$05\$[./A-Za-z0-9]{53}\n$/);
    expect(bcrypt.getRounds(line.trim().slice('devreg:'.length))).toBe(5);
    expect(htpasswdEntry('devreg', 'secret-password', 4)).toMatch(/^devreg:\$2y\$04\$/);
  });

  it('salts every entry differently', () => {
    expect(htpasswdEntry('u', 'same', 4)).not.toBe(htpasswdEntry('u', 'same', 4));
  });

  it.each(awkward)('round-trips the password %j and rejects near misses', (password) => {
    const line = htpasswdEntry('devreg', password, 4);
    expect(Buffer.byteLength(password) <= 72).toBe(true);
    expect(line).not.toContain(password);
    expect(htpasswdMatches(line, 'devreg', password)).toBe(true);
    expect(htpasswdMatches(line, 'devreg', password.slice(1))).toBe(false);
    expect(htpasswdMatches(line, 'devreg', `${password.slice(0, -1)}${password.endsWith('x') ? 'y' : 'x'}`)).toBe(false);
    if (password.trim() !== password) expect(htpasswdMatches(line, 'devreg', password.trim())).toBe(false);
  });

  it('matches the registry in ignoring bytes after the 72nd (why passwords are limited to 72 bytes)', () => {
    const line = htpasswdEntry('devreg', 'a'.repeat(72), 4);
    expect(htpasswdMatches(line, 'devreg', `${'a'.repeat(72)}anything`)).toBe(true);
    expect(htpasswdMatches(line, 'devreg', 'a'.repeat(71))).toBe(false);
  });

  it('refuses usernames and passwords that would break the file or be truncated, without echoing the password', () => {
    expect(() => htpasswdEntry('a:b', 'password')).toThrow(UserError);
    expect(() => htpasswdEntry('a\nb', 'password')).toThrow(UserError);
    expect(() => htpasswdEntry('devreg', 'line\nbreak')).toThrow(UserError);
    expect(() => htpasswdEntry('devreg', 'x'.repeat(73))).toThrow(/72/);
    expect(() => htpasswdEntry('devreg', 'password', 3)).toThrow(UserError);
    let message = '';
    try {
      htpasswdEntry('devreg', 'secret\tvalue');
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/control character/);
    expect(message).not.toContain('secret');
  });
});

