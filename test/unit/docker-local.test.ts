import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { dockerEndpoint, dockerOnPath, isRemoteEndpoint, refuseUnmountableDocker, snapCanRead } from '../../src/steps/docker-local.js';

/** A docker config folder with a context, laid out as the docker CLI writes it. */
function dockerConfig(context: string, host: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-docker-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: {}, currentContext: context }));
  const meta = join(dir, 'contexts', 'meta', createHash('sha256').update(context).digest('hex'));
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: context, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  return dir;
}

describe('a docker daemon whose nodes can mount the state folder', () => {
  it('reads the endpoint as the docker CLI does: DOCKER_HOST, else the current context', async () => {
    const config = dockerConfig('builder', 'ssh://dev@build-box');
    expect(await dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_CONFIG: config })).toEqual({ host: 'tcp://10.0.0.5:2376', from: 'DOCKER_HOST' });
    expect(await dockerEndpoint({ DOCKER_CONFIG: config })).toEqual({ host: 'ssh://dev@build-box', from: 'the docker context builder' });
    expect(await dockerEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'default' })).toBeUndefined();
    expect(await dockerEndpoint({ DOCKER_CONFIG: join(config, 'missing') })).toBeUndefined();
  });

  it.each([
    ['ssh://dev@build-box', true],
    ['tcp://10.0.0.5:2376', true],
    ['https://docker.example:2376', true],
    ['tcp://localhost:2375', false],
    ['tcp://127.0.0.1:2375', false],
    ['unix:///var/run/docker.sock', false],
    ['unix:///Users/dev/.docker/run/docker.sock', false],
    ['npipe:////./pipe/docker_engine', false],
  ])('%s is remote: %s', (host, remote) => {
    expect(isRemoteEndpoint(host)).toBe(remote);
  });

  it('refuses a daemon on another machine, naming where the address came from and the fix', async () => {
    const config = dockerConfig('remote', 'ssh://dev@build-box');
    const error = (await refuseUnmountableDocker({ env: { DOCKER_CONFIG: config, HOME: '/home/dev', PATH: '' }, stateDir: '/home/dev/.k3s-devreg/devreg' }).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(
      'docker talks to a daemon on another machine (ssh://dev@build-box, from the docker context remote), whose k3d nodes cannot mount /home/dev/.k3s-devreg/devreg from this one: run k3s-devreg on the machine docker runs on, or use a local daemon (unset DOCKER_HOST, or `docker context use default`)',
    );
    await expect(refuseUnmountableDocker({ env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock', PATH: '' }, stateDir: '/home/dev/.k3s-devreg/devreg' })).resolves.toBeUndefined();
  });

  it("snap's docker reads only non-hidden folders in the home: the default state folder is refused with a folder that works", async () => {
    expect(snapCanRead('/home/dev/k3s-devreg/devreg', '/home/dev')).toBe(true);
    expect(snapCanRead('/home/dev/.k3s-devreg/devreg', '/home/dev')).toBe(false);
    expect(snapCanRead('/tmp/state', '/home/dev')).toBe(false);
    const env = { HOME: '/home/dev', PATH: '' };
    await expect(refuseUnmountableDocker({ env, stateDir: '/home/dev/.k3s-devreg/devreg', dockerPath: '/snap/bin/docker' })).rejects.toThrow(
      'docker is the snap package (/snap/bin/docker), which cannot read /home/dev/.k3s-devreg/devreg (a hidden folder, or outside your home), so k3s would start without our registries.yaml: set K3S_DEVREG_HOME to a folder in your home that is not hidden, e.g. K3S_DEVREG_HOME=/home/dev/k3s-devreg, or install Docker from its own packages',
    );
    await expect(refuseUnmountableDocker({ env, stateDir: '/home/dev/k3s-devreg/devreg', dockerPath: '/snap/bin/docker' })).resolves.toBeUndefined();
    await expect(refuseUnmountableDocker({ env, stateDir: '/home/dev/.k3s-devreg/devreg', dockerPath: '/usr/bin/docker' })).resolves.toBeUndefined();
  });

  it('finds the docker the runner will start: the first executable one on PATH', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'k3s-devreg-path-')), mkdtempSync(join(tmpdir(), 'k3s-devreg-path-'))];
    writeFileSync(join(a, 'docker'), 'not executable');
    writeFileSync(join(b, 'docker'), '#!/bin/sh\n');
    chmodSync(join(b, 'docker'), 0o755);
    expect(await dockerOnPath({ PATH: `${a}:${b}` })).toBe(join(b, 'docker'));
    expect(await dockerOnPath({ PATH: a })).toBeUndefined();
  });
});
