/**
 * Ctrl-C and closed pipes as a user meets them: the built CLI (dist/bin.cjs) on a real terminal
 * (a pty from util-linux `script`), with Ctrl-C typed into it (the terminal turns it into SIGINT for
 * the foreground process group, or hands it to inquirer as a key in raw mode), and with its
 * stdout or stderr piped into a reader that has gone. docker, k3d and kubectl are the stand-ins of
 * test/helpers/fake-bin.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort, requireTool } from '../helpers/tools.js';

const BIN = fileURLToPath(new URL('../../dist/bin.cjs', import.meta.url));
const FAKE_BIN = fileURLToPath(new URL('../helpers/fake-bin', import.meta.url));
const PASSWORD = 'Signal-Test-Password-31';
const CTRL_C = '\x03';
const hasScript = requireTool(spawnSync('script', ['--version']).status === 0, 'util-linux script (a pty)', 'apt-get install -y bsdutils');

let work: string;
let port: number;
beforeEach(async () => {
  work = mkdtempSync(join(tmpdir(), 'k3s-devreg-signals-'));
  writeFileSync(join(work, 'calls.log'), '');
  port = await freePort();
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${FAKE_BIN}:${process.env.PATH}`,
    K3S_DEVREG_HOME: join(work, 'home'),
    FAKE_TOOLS_LOG: join(work, 'calls.log'),
    FAKE_TOOLS_STATE: join(work, 'cluster-exists'),
    FAKE_PORT: String(port),
    TERM: 'xterm',
    ...extra,
  };
  // A person at a terminal: prompts are allowed only outside CI.
  delete base.CI;
  return base;
}

const calls = () => readFileSync(join(work, 'calls.log'), 'utf8').split('\n').filter(Boolean);
const sh = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

interface TtyRun {
  code: number | null;
  /** The terminal: stdin and stdout of the CLI. */
  screen: string;
  stderr: string;
  /** What the CLI wrote on stderr after Ctrl-C was typed. */
  afterCtrlC: string;
  /** What the terminal showed after Ctrl-C was typed. */
  screenAfterCtrlC: string;
}

/**
 * Runs the CLI with stdin and stdout on a pty and stderr in a file (so that stderr can be counted
 * line by line; or on the pty too, with `stderr: 'tty'`), types Ctrl-C once `ready` says so, and
 * waits for the exit.
 */
async function ctrlCOnTty(args: string[], ready: (screen: string) => boolean, extraEnv: NodeJS.ProcessEnv = {}, stderr: 'file' | 'tty' = 'file'): Promise<TtyRun> {
  const stderrFile = join(work, 'stderr');
  writeFileSync(stderrFile, '');
  // script's pty starts 0 columns wide when its own stdin is no terminal; a terminal has a size.
  const command = `stty cols 120 rows 40; exec ${[process.execPath, BIN, ...args].map(sh).join(' ')}${stderr === 'file' ? ` 2>${sh(stderrFile)}` : ''}`;
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], { env: env(extraEnv), stdio: ['pipe', 'pipe', 'inherit'] });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await vi.waitFor(() => expect(ready(screen), `waiting on the terminal; so far:\n${screen}\n${readFileSync(stderrFile, 'utf8')}`).toBe(true), { timeout: 20_000, interval: 50 });
  const before = statSync(stderrFile).size;
  const shown = screen.length;
  child.stdin.write(CTRL_C);
  const code = await exited;
  child.stdin.end();
  return {
    code,
    screen,
    stderr: readFileSync(stderrFile, 'utf8'),
    afterCtrlC: readFileSync(stderrFile).subarray(before).toString(),
    screenAfterCtrlC: screen.slice(shown),
  };
}

const NO_STACK = /^\s+at |Error:|This is a bug|unexpected failure/m;

describe.skipIf(!hasScript)('Ctrl-C on a terminal: exit 130, one line, the resume hint only when something changed', () => {
  it("at render's first question", async () => {
    const run = await ctrlCOnTty(['render', '--dir', join(work, 'out')], (screen) => screen.includes('Cluster name'));
    expect(run.code).toBe(130);
    expect(run.stderr).toBe('interrupted\n');
    expect(existsSync(join(work, 'out'))).toBe(false);
  }, 30_000);

  it("at up's first question (the tools were only checked: nothing to resume)", async () => {
    const run = await ctrlCOnTty(['up'], (screen) => screen.includes('Cluster name'), { K3S_DEVREG_PASSWORD: PASSWORD });
    expect(run.code).toBe(130);
    expect(run.afterCtrlC).toBe('interrupted: nothing was changed\n');
    expect(run.stderr).not.toMatch(NO_STACK);
    expect(calls().filter((c) => /^(k3d cluster create|docker volume create)/.test(c))).toEqual([]);
  }, 30_000);

  it("at reset's confirmation: nothing was deleted, so no 'finish setting up'", async () => {
    const run = await ctrlCOnTty(['reset'], (screen) => screen.includes('(yes/no)'));
    expect(run.code).toBe(130);
    expect(run.stderr).toBe('interrupted: nothing was changed\n');
    expect(calls().filter((c) => c.startsWith('k3d cluster delete') || c.startsWith('docker volume rm'))).toEqual([]);
  }, 30_000);

  /** `up --yes`, with Ctrl-C typed while the stand-in k3d is creating the cluster (it waits for a signal). */
  const ctrlCWhileK3dCreates = (stderr: 'file' | 'tty') => {
    const hang = join(work, 'k3d-create.pid');
    const creating = () => existsSync(hang) && /^\d+$/.test(readFileSync(hang, 'utf8'));
    return { hang, run: ctrlCOnTty(['up', '--yes', '--port', String(port)], creating, { K3S_DEVREG_PASSWORD: PASSWORD, FAKE_CREATE_HANG: hang }, stderr) };
  };

  it('while k3d creates the cluster (spinners off: stderr is a file): the resume hint, and k3d is gone too', async () => {
    const { hang, run: running } = ctrlCWhileK3dCreates('file');
    const run = await running;
    expect(run.code).toBe(130);
    expect(run.afterCtrlC).toBe('interrupted: run k3s-devreg up again to resume where it stopped\n');
    expect(run.stderr).not.toMatch(NO_STACK);
    expect(run.stderr + run.screen).not.toContain(PASSWORD);
    expect(() => process.kill(Number(readFileSync(hang, 'utf8')), 0)).toThrow(/ESRCH/);
  }, 30_000);

  it('while k3d creates the cluster, with spinners (stderr on the terminal too): one interrupted line, no stack', async () => {
    const run = await ctrlCWhileK3dCreates('tty').run;
    expect(run.code).toBe(130);
    // The spinner frames are cursor codes; the interrupted line is the one plain line after them.
    expect(run.screen).toContain('Creating or reusing the cluster');
    expect(run.screenAfterCtrlC.match(/interrupt|stopping/g)).toEqual(['interrupt']);
    const plain = run.screenAfterCtrlC.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(/\ninterrupted: run k3s-devreg up again to resume where it stopped\r\n$/);
    expect(run.screen).not.toMatch(NO_STACK);
  }, 30_000);
});

/** Runs the CLI with stdout or stderr piped into a reader that closes it before the CLI writes. */
async function intoClosedPipe(closed: 'stdout' | 'stderr', args: string[]): Promise<{ code: number | null; signal: string | null; other: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: env({ CI: 'true', K3S_DEVREG_PASSWORD: PASSWORD }), stdio: ['ignore', 'pipe', 'pipe'] });
  child[closed].destroy();
  let other = '';
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => (other += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  return { code, signal, other };
}

describe('output into a closed pipe ends the CLI at once and quietly, with 141 (as SIGPIPE ends other programs)', () => {
  it('render --json with stdout closed', async () => {
    const run = await intoClosedPipe('stdout', ['render', '--yes', '--dir', join(work, 'out'), '--json']);
    expect(run).toMatchObject({ code: 141, signal: null });
    expect(run.other).not.toMatch(/EPIPE|^\s+at /m);
  });

  it('--help and status --json with stdout closed', async () => {
    for (const args of [['--help'], ['status', '--json']]) {
      const run = await intoClosedPipe('stdout', args);
      expect(run, args.join(' ')).toMatchObject({ code: 141, signal: null });
      expect(run.other, args.join(' ')).not.toMatch(/EPIPE|^\s+at /m);
    }
  });

  it('render --verbose with stderr closed', async () => {
    const run = await intoClosedPipe('stderr', ['render', '--yes', '--dir', join(work, 'out'), '--verbose']);
    expect(run).toMatchObject({ code: 141, signal: null });
    expect(run.other).not.toMatch(/EPIPE|^\s+at /m);
  });
});
