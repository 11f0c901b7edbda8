/** Validators for the upstream schemas copied into test/fixtures (see each folder's SOURCE.txt). */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const fixtures = new URL('../fixtures/', import.meta.url);
const cache = new Map<string, ValidateFunction>();

function load(relative: string): ValidateFunction {
  const cached = cache.get(relative);
  if (cached) return cached;
  const schema = JSON.parse(readFileSync(new URL(relative, fixtures), 'utf8')) as Record<string, unknown>;
  // The Kubernetes schemas declare a $schema Ajv does not know; see fixtures/kubernetes/SOURCE.txt.
  if (schema.$schema === 'http://json-schema.org/schema#') delete schema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', true).addFormat('int64', true);
  const validate = ajv.compile(schema);
  cache.set(relative, validate);
  return validate;
}

const KUBERNETES_SCHEMAS: Record<string, string> = {
  Namespace: 'kubernetes/namespace-v1.json',
  Secret: 'kubernetes/secret-v1.json',
  ConfigMap: 'kubernetes/configmap-v1.json',
  Service: 'kubernetes/service-v1.json',
  Deployment: 'kubernetes/deployment-apps-v1.json',
  DaemonSet: 'kubernetes/daemonset-apps-v1.json',
};

/** Returns the list of schema errors (empty when valid), so a failing test shows why. */
export function schemaErrors(kind: 'k3d' | 'registries' | keyof typeof KUBERNETES_SCHEMAS | string, value: unknown): string[] {
  const relative =
    kind === 'k3d' ? 'k3d/k3d-v1alpha5.schema.json' : kind === 'registries' ? 'registries/registries.schema.json' : KUBERNETES_SCHEMAS[kind];
  if (!relative) throw new Error(`no schema for kind ${kind}`);
  const validate = load(relative);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
