import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cacheSpec, cacheContainerName, cacheVolumeName, cacheLabels } from '../../../src/cache/spec.js';
import { cacheRunArgs, renderCacheConfig, withCacheMirrors } from '../../../src/cache/render.js';
import { ourRegistries } from '../../../src/render/registries-yaml.js';
import { schemaErrors } from '../../helpers/schemas.js';

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as Error).name}(${(e as { exitCode?: number }).exitCode}): ${(e as Error).message}`;
  }
  return 'no error';
};

describe('cacheSpec', () => {
  it('caches docker.io by default and adds the team mirrors', () => {
    expect(cacheSpec().upstreams).toEqual([{ host: 'docker.io', remoteUrl: 'https://registry-1.docker.io' }]);
    const spec = cacheSpec({ mirrors: { 'ghcr.io': 'https://ghcr.io/', 'registry.example.com:5000': 'https://registry.example.com:5000' } });
    expect(spec.upstreams.map((u) => [u.host, u.remoteUrl])).toEqual([
      ['docker.io', 'https://registry-1.docker.io'],
      ['ghcr.io', 'https://ghcr.io'],
      ['registry.example.com:5000', 'https://registry.example.com:5000'],
    ]);
  });

  it('rejects an upstream that is not an https URL', () => {
    expect(message(() => cacheSpec({ mirrors: { 'quay.io': 'http://quay.io' } }))).toBe(
      'UserError(2): cache upstream for quay.io is not an https URL: "http://quay.io": use the registry\'s https root, e.g. https://quay.io',
    );
    expect(message(() => cacheSpec({ mirrors: { 'quay.io': 'quay.io' } }))).toContain('is not an https URL: "quay.io"');
    expect(message(() => cacheSpec({ mirrors: { 'quay.io': 'https://quay.io/v2/' } }))).toContain('is not an https URL');
  });

  it('rejects a duplicate upstream', () => {
    expect(message(() => cacheSpec({ mirrors: { 'hub.example': 'https://registry-1.docker.io/' } }))).toBe(
      'UserError(2): cache upstream https://registry-1.docker.io is given twice (for docker.io and hub.example): keep one of the two mirrors in the cache settings',
    );
  });

  it('rejects a name k3s would not treat as a registry host', () => {
    for (const host of ['https://ghcr.io', 'ghcr.io/org', '*', 'GHCR.io', 'ghcr.io:99999', '-bad.io']) {
      expect(message(() => cacheSpec({ mirrors: { [host]: 'https://ghcr.io' } }))).toBe(
        `UserError(2): cache mirror "${host}" is not a registry host k3s would match: name it as images do, e.g. ghcr.io or registry.example.com:5000 (no scheme, path or "*")`,
      );
    }
  });
});

describe('one upstream cache', () => {
  const upstream = { host: 'ghcr.io', remoteUrl: 'https://ghcr.io', credentials: { username: 'bot', password: 's3cr3t-PW' } };

  it('has our names and labels', () => {
    expect(cacheContainerName('registry.example.com:5000')).toBe('k3s-devreg-cache-registry-example-com-5000');
    expect(cacheVolumeName('docker.io')).toBe('k3s-devreg-cache-docker-io-data');
    expect(cacheLabels('docker.io')).toEqual({ 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cache': 'docker.io' });
  });

  it('renders a proxy config that parses back', () => {
    const config = parse(renderCacheConfig(upstream));
    expect(config.proxy).toEqual({ remoteurl: 'https://ghcr.io', username: 'bot', password: 's3cr3t-PW' });
    expect(config.storage).toEqual({ filesystem: { rootdirectory: '/var/lib/registry' }, delete: { enabled: false } });
    expect(config.http.addr).toBe(':5000');
    expect(parse(renderCacheConfig({ host: 'docker.io', remoteUrl: 'https://registry-1.docker.io' })).proxy).toEqual({ remoteurl: 'https://registry-1.docker.io' });
  });

  it('keeps the credentials out of argv and env', () => {
    const args = cacheRunArgs(upstream, { configFile: '/state/cache/ghcr.io.yml', network: 'k3d-devreg', image: 'registry:2.8.3' });
    expect(args).toEqual([
      'run', '-d', '--name', 'k3s-devreg-cache-ghcr-io', '--label', 'app.kubernetes.io/managed-by=k3s-devreg', '--label', 'dev.k3s-devreg/cache=ghcr.io',
      '--restart', 'unless-stopped', '--network', 'k3d-devreg', '--network-alias', 'k3s-devreg-cache-ghcr-io',
      '-v', 'k3s-devreg-cache-ghcr-io-data:/var/lib/registry', '-v', '/state/cache/ghcr.io.yml:/etc/docker/registry/config.yml:ro', 'registry:2.8.3',
    ]);
    expect(args.join(' ')).not.toMatch(/s3cr3t|bot|-e|--env/);
  });
});

describe('withCacheMirrors', () => {
  const spec = cacheSpec({ mirrors: { 'ghcr.io': 'https://ghcr.io' } });

  it('adds a cache-first mirror per upstream to our registries.yaml, valid against the schema', () => {
    const { document, notes } = withCacheMirrors(ourRegistries({ username: 'u', password: 'p' }), spec);
    expect(notes).toEqual([]);
    expect(document.mirrors).toEqual({
      'container-registry.local:5000': { endpoint: ['https://container-registry.local:5000'] },
      'docker.io': { endpoint: ['http://k3s-devreg-cache-docker-io:5000'] },
      'ghcr.io': { endpoint: ['http://k3s-devreg-cache-ghcr-io:5000'] },
    });
    expect(schemaErrors('registries', document)).toEqual([]);
  });

  it("yields to the user's own entry for the same host, with a note", () => {
    const user = { mirrors: { 'docker.io': { endpoint: ['https://mirror.corp.example'] } } };
    const { document, notes } = withCacheMirrors(user, spec, new Set(['docker.io']));
    expect(document.mirrors!['docker.io']).toEqual({ endpoint: ['https://mirror.corp.example'] });
    expect(document.mirrors!['ghcr.io']).toEqual({ endpoint: ['http://k3s-devreg-cache-ghcr-io:5000'] });
    expect(notes).toEqual(['your registries file has a mirror for docker.io: it is kept, and the pull-through cache is not used for docker.io']);
    expect(schemaErrors('registries', document)).toEqual([]);
  });

  it('leaves every host to a user\'s "*" mirror (a company proxy): no mirror of ours at all', () => {
    const user = { mirrors: { '*': { endpoint: ['https://proxy.corp.example'] } } };
    const { document, notes } = withCacheMirrors(user, spec, new Set(['*']));
    expect(document.mirrors).toEqual({ '*': { endpoint: ['https://proxy.corp.example'] } });
    expect(notes).toEqual(['your registries file has a "*" mirror: it is kept for every host, and the pull-through cache is not used']);
  });
});
