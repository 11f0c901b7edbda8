import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ourRegistries, renderRegistriesYaml } from '../../src/render/registries-yaml.js';
import { schemaErrors } from '../helpers/schemas.js';

describe('our registries.yaml', () => {
  it('mirrors container-registry.local:5000 over https with credentials and the node-side CA path', () => {
    const doc = parse(renderRegistriesYaml(ourRegistries({ username: 'dev', password: 'pw' })));
    expect(doc).toEqual({
      mirrors: { 'container-registry.local:5000': { endpoint: ['https://container-registry.local:5000'] } },
      configs: {
        'container-registry.local:5000': {
          auth: { username: 'dev', password: 'pw' },
          tls: { ca_file: '/etc/k3s-devreg/ca.crt' },
        },
      },
    });
    expect(schemaErrors('registries', doc)).toEqual([]);
  });

  it.each([
    'p$a"ss w#rd:\\x',
    "'single' and \"double\"",
    '# starts with a hash',
    ': colon first',
    'ü€😀 non-ascii',
    ' leading and trailing space ',
    '- dash',
    '*star',
    '&anchor',
    'null',
    'true',
    '0123',
    'yes',
    'on',
    'y',
    '1_000',
    '12:30',
  ])('keeps the password %j exact through YAML', (password) => {
    const text = renderRegistriesYaml(ourRegistries({ username: 'dev', password }));
    // k3s reads YAML 1.1 (yaml.v2), where unquoted yes/on/0123 stop being strings.
    const doc = parse(text, { version: '1.1' }) as { configs: Record<string, { auth: { password: string } }> };
    expect(doc.configs['container-registry.local:5000']!.auth.password).toBe(password);
  });
});
