/** The one runner that starts programs: argument arrays, stdin, and what children inherit. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRunner, formatCommand } from '../../src/tools/run.js';

afterEach(() => vi.unstubAllEnvs());

describe('createRunner', () => {
  it('passes arguments as they are (no shell) and input on stdin', async () => {
    const run = createRunner();
    const result = await run('sh', ['-c', 'printf "%s|" "$1"; cat', 'sh', '$HOME; echo no'], { input: 'from stdin' });
    expect(result).toMatchObject({ exitCode: 0, stdout: '$HOME; echo no|from stdin' });
  });

  it('children do not inherit K3S_DEVREG_PASSWORD, but do get the rest of the environment and extra variables', async () => {
    vi.stubEnv('K3S_DEVREG_PASSWORD', 'Not-For-Children-1');
    vi.stubEnv('SOME_SETTING', 'kept');
    const run = createRunner();
    const result = await run('sh', ['-c', 'echo "${K3S_DEVREG_PASSWORD-unset} $SOME_SETTING $EXTRA"'], { env: { EXTRA: 'added' } });
    expect(result.stdout).toBe('unset kept added');
  });

  it('a missing program is notFound, not a crash', async () => {
    const result = await createRunner()('k3s-devreg-no-such-program', []);
    expect(result).toMatchObject({ notFound: true, exitCode: 127 });
  });

  it('formats commands for --verbose with shell quoting', () => {
    expect(formatCommand('docker', ['login', 'localhost:31113', '--username', "o'neil"])).toBe(`docker login localhost:31113 --username 'o'\\''neil'`);
  });
});
