import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { validateAgents, validateClusterName, validateHostPort, validateImage, validatePassword, validateUsername } from '../../src/spec.js';
import { validateStateDir } from '../../src/state/layout.js';

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError');
}

describe('input validation', () => {
  it.each(['devreg', 'a', 'my-cluster-2', 'x'.repeat(32)])('accepts cluster name %s', (name) => {
    expect(validateClusterName(name)).toBe(name);
  });

  it.each(['', 'Dev', '-a', 'a-', 'a_b', 'a.b', 'x'.repeat(33), 'with space'])('rejects cluster name %j in one line', (name) => {
    const error = errorOf(() => validateClusterName(name));
    expect(error.message).toContain('invalid cluster name');
    expect(error.message).toContain('--name');
    expect(error.message).not.toContain('\n');
    expect(error.exitCode).toBe(2);
  });

  it("refuses the name cache: that state folder would be the pull-through cache's, which cache rm empties", () => {
    expect(errorOf(() => validateClusterName('cache')).message).toBe('the cluster name "cache" is reserved: its state folder would be the pull-through cache\'s: pass --name with another name (e.g. devreg)');
    expect(validateClusterName('cache-1')).toBe('cache-1');
  });

  it('rejects a username with a colon and names the fix', () => {
    expect(errorOf(() => validateUsername('a:b')).message).toMatch(/without ':'/);
    expect(errorOf(() => validateUsername('')).message).toMatch(/1-64/);
    expect(errorOf(() => validateUsername('a b')).message).toMatch(/whitespace/);
  });

  it('accepts passwords of any printable characters up to 72 bytes', () => {
    for (const password of ['p$a"ss w#rd:\\', "it's", '`$(rm -rf)`', 'ü€😀', 'a'.repeat(72), '€'.repeat(24)]) {
      expect(validatePassword(password)).toBe(password);
    }
  });

  it('rejects empty, over-long and control-character passwords without echoing them', () => {
    const long = 'S3cret'.repeat(13); // 78 bytes
    const tooLong = errorOf(() => validatePassword(long));
    expect(tooLong.message).toMatch(/78 bytes.*72/);
    expect(tooLong.message).not.toContain(long);
    expect(errorOf(() => validatePassword('€'.repeat(25))).message).toMatch(/75 bytes/);
    expect(errorOf(() => validatePassword('')).message).toMatch(/empty/);
    expect(errorOf(() => validatePassword('line1\nline2')).message).toMatch(/control character/);
  });

  it('bounds agents and ports', () => {
    expect(validateAgents(0)).toBe(0);
    expect(() => validateAgents(-1)).toThrow(UserError);
    expect(() => validateAgents(1.5)).toThrow(UserError);
    expect(validateHostPort(31113)).toBe(31113);
    expect(() => validateHostPort(0)).toThrow(/--port/);
    expect(() => validateHostPort(70000)).toThrow(UserError);
  });

  it('refuses state folders that k3d volume specs cannot carry', () => {
    expect(validateStateDir('/home/u/.k3s-devreg/devreg')).toBe('/home/u/.k3s-devreg/devreg');
    for (const bad of ['/home/$USER/x', '/a:b', '/a,b', '/my dir/x']) {
      expect(errorOf(() => validateStateDir(bad)).message).toContain('K3S_DEVREG_HOME');
    }
  });

  it('names the file and the field when the value came from a file, and the flag otherwise', () => {
    const source = { file: '/repo/k3s-devreg.yaml', field: 'port' };
    const fromFile = errorOf(() => validateHostPort(99999, source));
    expect(fromFile.problem).toBe('invalid port 99999 (port in /repo/k3s-devreg.yaml)');
    expect(fromFile.fix).toBe('set port in /repo/k3s-devreg.yaml to a whole number from 1 to 65535 (default 31113)');
    expect(errorOf(() => validateHostPort(99999)).fix).toBe('pass --port with a whole number from 1 to 65535 (default 31113)');
    expect(errorOf(() => validateAgents(10, { file: '/f', field: 'agents' })).message).toBe('invalid number of agents 10 (agents in /f): set agents in /f to a whole number from 0 to 9');
    expect(errorOf(() => validateClusterName('X', { file: '/f', field: 'name' })).fix).toMatch(/^set name in \/f to 1-32 lowercase/);
    expect(errorOf(() => validateUsername('', { file: '/f', field: 'username' })).message).toBe('invalid registry username (username in /f): it must be 1-64 characters: set username in /f to a name of 1-64 characters, e.g. devreg');
    expect(errorOf(() => validateImage('a b', { file: '/f', field: 'hostsImage' })).fix).toBe('set hostsImage in /f to an image reference like registry:2.8.3');
    expect(errorOf(() => validateImage('a b', '--hosts-image')).fix).toBe('pass --hosts-image like registry:2.8.3');
    expect(errorOf(() => validatePassword('', 'K3S_DEVREG_PASSWORD')).problem).toBe('the registry password (from K3S_DEVREG_PASSWORD) is empty');
    expect(errorOf(() => validatePassword('', { file: '/c.json', field: 'password' })).problem).toBe('the registry password (password in /c.json) is empty');
  });
});
