/**
 * {fromCommand} with real age encryption (Debian package `age`). Needs no docker; without age the
 * file is skipped with a notice, except under CI=true, where that fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { loadRegistriesFile } from '../../src/registries/load.js';
import { redactedDiff } from '../../src/registries/redacted-diff.js';
import { serializeRegistries } from '../../src/render/registries-yaml.js';
import { createRunner } from '../../src/tools/run.js';
import { requireTool } from '../helpers/tools.js';

const ageAvailable = requireTool(spawnSync('age', ['--version'], { stdio: 'pipe' }).error === undefined, 'age', 'apt-get install age');

const SECRET = 'age-protected-P4ss!word';
const REFERENCE = `configs:
  registry.example.com:
    auth:
      username: ci-bot
      password: {fromCommand: [age, -d, -i, key.txt, pass.age]}
`;

describe.skipIf(!ageAvailable)('credentials from an age-encrypted file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-age-'));
  const logged: string[] = [];
  const runner = createRunner((line) => logged.push(line));

  beforeAll(() => {
    execFileSync('age-keygen', ['-o', join(dir, 'key.txt')], { stdio: 'pipe' });
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'key.txt')], { encoding: 'utf8' }).trim();
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'pass.age')], { input: `${SECRET}\n` });
    execFileSync('age-keygen', ['-o', join(dir, 'other-key.txt')], { stdio: 'pipe' });
    writeFileSync(join(dir, 'registries.yaml'), REFERENCE);
    writeFileSync(join(dir, 'wrong-key.yaml'), REFERENCE.replace('key.txt', 'other-key.txt'));
  });
  afterEach(() => forgetSecretsForTests());

  it('decrypts the password with `age -d`, relative to the registries file, and never logs it', async () => {
    const { config } = await loadRegistriesFile(join(dir, 'registries.yaml'), { strict: true, nodeVisibleDirs: [], runner, env: {} });
    expect(config.configs?.['registry.example.com']?.auth).toStrictEqual({ username: 'ci-bot', password: SECRET });
    expect(logged).toStrictEqual(['$ age -d -i key.txt pass.age']);
    const shown = redactedDiff(undefined, serializeRegistries(config), 'registries.yaml');
    expect(shown).toContain('password: <REDACTED>');
    expect(shown).not.toContain(SECRET);
  });

  it('reports a failing decryption with age\'s exit code and message, without the secret', async () => {
    const error = await loadRegistriesFile(join(dir, 'wrong-key.yaml'), { strict: true, nodeVisibleDirs: [], runner, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    const message = (error as ToolError).message;
    expect(message).toContain('`age -d -i other-key.txt pass.age` (credential for configs."registry.example.com".auth.password, line ');
    expect(message).toContain(') failed with exit code 1: ');
    expect(message).not.toContain('\n');
    expect(message).toMatch(/no identity matched/i);
    expect(message).not.toContain(SECRET);
  });
});
