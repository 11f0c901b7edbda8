/**
 * Our htpasswd entries as Apache's real `htpasswd` (apache2-utils) sees them, and its entries as we see
 * them. Passwords go on stdin (-i), never in argv. Without htpasswd the file is skipped with a notice,
 * except under CI=true, where that fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htpasswdEntry, htpasswdMatches } from '../../src/render/htpasswd.js';
import { requireTool } from '../helpers/tools.js';

const htpasswdAvailable = requireTool(spawnSync('htpasswd', [], { stdio: 'pipe' }).error === undefined, 'Apache htpasswd', 'apt-get install apache2-utils');

const PASSWORDS = [
  'p$a"ss w#rd:\\ü€',
  ' leading and trailing spaces ',
  "it's `$(whoami)` ${HOME} 'q' ; | & < >",
  '€'.repeat(24), // 72 bytes of UTF-8
  'x'.repeat(72),
];

/** Differs in the last character: appending would not do, bcrypt ignores bytes after the 72nd. */
const nearMiss = (password: string) => `${password.slice(0, -1)}${password.endsWith('#') ? '!' : '#'}`;

/** Runs htpasswd with the password on stdin; returns its exit status and output. */
function htpasswd(args: string[], password: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('htpasswd', args, { input: password, encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!htpasswdAvailable)('compatibility with Apache htpasswd', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-htpasswd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fileWith = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it.each(PASSWORDS.map((p, i) => [i, p] as const))('htpasswd -v accepts our entry for password #%i and rejects a wrong one', (i, password) => {
    expect(Buffer.byteLength(password)).toBeLessThanOrEqual(72);
    const file = fileWith(`ours-${i}`, htpasswdEntry('devreg', password, 4));
    const ok = htpasswd(['-v', '-i', file, 'devreg'], password);
    expect(ok.stderr).toContain('correct');
    expect(ok.status).toBe(0);
    const wrong = htpasswd(['-v', '-i', file, 'devreg'], nearMiss(password));
    expect(wrong.stderr).toContain('verification failed');
    expect(wrong.status).not.toBe(0);
  });

  it('accepts our default-cost entry among other users and comments', () => {
    const file = fileWith('many', `# users\n${htpasswdEntry('alice', 'alice-secret', 4)}${htpasswdEntry('devreg', 'default cost pw')}`);
    expect(htpasswd(['-v', '-i', file, 'devreg'], 'default cost pw').status).toBe(0);
    expect(htpasswd(['-v', '-i', file, 'alice'], 'alice-secret').status).toBe(0);
    expect(htpasswd(['-v', '-i', file, 'alice'], 'default cost pw').status).not.toBe(0);
  });

  it.each(PASSWORDS.map((p, i) => [i, p] as const))('htpasswdMatches accepts a line from htpasswd -niB for password #%i', (_i, password) => {
    for (const cost of [[], ['-C', '4']]) {
      const made = htpasswd(['-n', '-i', '-B', ...cost, 'devreg'], password);
      expect(made.status).toBe(0);
      expect(made.stdout).toMatch(/^devreg:\$2y\$0[45]\$/);
      expect(htpasswdMatches(made.stdout, 'devreg', password)).toBe(true);
      expect(htpasswdMatches(made.stdout, 'devreg', nearMiss(password))).toBe(false);
      expect(htpasswdMatches(made.stdout, 'someone-else', password)).toBe(false);
    }
  });
});
