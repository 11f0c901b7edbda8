/**
 * `images` refuses, before running anything, what would otherwise be misread: rm without its
 * REPO[:TAG], and options given to a subcommand they mean nothing to (`images ls --keep 1`).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli.js';
import { fakeFactory } from '../../helpers/commands.js';
import { FakeWorld } from '../../helpers/fake-cluster.js';
import { captureIo } from '../../helpers/io.js';

async function cli(argv: string[]) {
  const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
  const io = captureIo({ env: { K3S_DEVREG_HOME: '/nonexistent-k3s-devreg-home', CI: 'true' } });
  const code = await runCli(argv, io, fakeFactory(world.runner));
  return { code, err: io.stderr.join('\n'), calls: world.runner.calls.length };
}

describe('images: arguments checked before anything runs', () => {
  it('rm without REPO[:TAG] says what it needs (not "unknown images command")', async () => {
    expect(await cli(['images', 'rm'])).toEqual({ code: 2, err: 'error: images rm needs the image to delete, as REPO[:TAG]: name it as k3s-devreg images ls shows it, e.g. k3s-devreg images rm app:1', calls: 0 });
    expect((await cli(['images', 'rm', 'a:1', 'b:2'])).err).toBe('error: images rm takes one REPO[:TAG], not 2: name it as k3s-devreg images ls shows it, e.g. k3s-devreg images rm app:1');
  });

  it.each([
    [['images', 'ls', '--keep', '1'], '--keep does not apply to images ls (only to images prune)'],
    [['images', 'du', '--keep', '1'], '--keep does not apply to images du (only to images prune)'],
    [['images', 'rm', 'app:1', '--keep', '1'], '--keep does not apply to images rm (only to images prune)'],
    [['images', 'ls', '-o', 'x.tar'], '--output (-o) does not apply to images ls (only to images save)'],
    [['images', 'prune', '--with', 'busybox:1'], '--with does not apply to images prune (only to images save)'],
    [['images', 'ls', '--yes'], '--yes does not apply to images ls (only to images rm, prune)'],
    [['images', 'save', '--keep', '2'], '--keep does not apply to images save (only to images prune)'],
  ])('%j is one line with the fix', async (argv, problem) => {
    expect(await cli(argv)).toEqual({ code: 2, err: `error: ${problem}: leave it out, or see k3s-devreg images --help`, calls: 0 });
  });
});
