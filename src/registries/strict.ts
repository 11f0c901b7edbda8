/**
 * The strict check k3s does not do: k3s ignores unknown keys without a word, so a typo silently
 * disables a mirror or a password. Schema: assets/schemas/registries.schema.json (shipped in the package).
 */
import { readFileSync } from 'node:fs';
import { assetUrl } from '../assets.js';
import { posix } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UserError } from '../errors.js';
import { suggestKey } from './suggest.js';
import { formatPath, isPlainObject, isSecretKey, NODE_FILE_KEYS } from './types.js';

export interface CheckOptions {
  strict: boolean;
  /** Folders (or single files) that exist on every node; ca_file and friends must point inside them. */
  nodeVisibleDirs: string[];
  /** Line number of a path in the source file, when known (load.ts supplies it). */
  locate?: (path: readonly string[]) => number | undefined;
  /** How to name the file in messages. */
  label?: string;
  /** Added to a "nodes cannot see this file" problem: how to get a file onto the nodes. */
  nodeFileHint?: string;
}

interface Problem {
  path: string[];
  message: string;
  /** Problems k3s would tolerate (unknown keys, paths we cannot see) become warnings with --no-strict. */
  demotable: boolean;
}

let compiled: { validate: ValidateFunction } | undefined;
function schemaValidator(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const url = assetUrl('schemas/registries.schema.json');
  const schema = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  // verbose: each error carries its parentSchema, the only reliable source of the keys allowed where a
  // $ref'd definition is involved (its schemaPath is relative to the definition, not the root).
  compiled = { validate: new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema) };
  return compiled;
}

const pointerToPath = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));

/** The keys allowed where an additionalProperties error happened, read from the schema object that raised it. */
function allowedKeys(error: ErrorObject): string[] {
  const parent = error.parentSchema;
  return isPlainObject(parent) && isPlainObject(parent.properties) ? Object.keys(parent.properties) : [];
}

const TYPE_WORDS: Record<string, string> = { array: 'a list', object: 'a mapping', string: 'a string', boolean: 'true or false' };

function schemaProblem(error: ErrorObject): Problem | undefined {
  const path = pointerToPath(error.instancePath);
  // oneOf [null, X] reports both branches; the X branch says what is wrong.
  if (error.keyword === 'oneOf' || (error.keyword === 'type' && error.params.type === 'null')) return undefined;
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    const hint = suggestKey(key, allowedKeys(error));
    return { path: [...path, key], message: `unknown key, which k3s ignores without a word (${hint})`, demotable: true };
  }
  if (error.keyword === 'type') {
    const wanted = ([] as string[]).concat(error.params.type as string | string[]).filter((t) => t !== 'null');
    const quote = wanted.includes('string') ? ' (quote the value in YAML)' : '';
    return { path, message: `must be ${wanted.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}${quote}`, demotable: false };
  }
  return { path, message: error.message ?? error.keyword, demotable: false };
}

const within = (file: string, dir: string): boolean => file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

function semanticProblems(value: Record<string, unknown>, visible: string[], hint: string): Problem[] {
  const problems: Problem[] = [];
  for (const section of ['mirrors', 'configs'] as const) {
    for (const key of Object.keys(isPlainObject(value[section]) ? value[section] : {})) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(key)) {
        problems.push({ path: [section, key], message: 'keys are host[:port] without a scheme (drop the http:// or https://)', demotable: true });
      }
    }
  }
  const configs = isPlainObject(value.configs) ? value.configs : {};
  for (const [host, entry] of Object.entries(configs)) {
    const tls = isPlainObject(entry) && isPlainObject(entry.tls) ? entry.tls : {};
    for (const key of NODE_FILE_KEYS) {
      const file = tls[key];
      if (typeof file !== 'string') continue;
      const path = ['configs', host, 'tls', key];
      if (!posix.isAbsolute(file)) problems.push({ path, message: 'must be an absolute path on the node', demotable: true });
      else if (!visible.some((dir) => within(posix.normalize(file), dir))) {
        const where = visible.length ? `only ${visible.join(', ')}` : 'nothing';
        problems.push({ path, message: `${file} is not known to exist on the nodes (they see ${where})${hint}`, demotable: true });
      }
    }
    if (typeof tls.cert_file === 'string' !== (typeof tls.key_file === 'string')) {
      problems.push({ path: ['configs', host, 'tls'], message: 'cert_file and key_file go together (client certificate and its key)', demotable: true });
    }
  }
  return problems;
}

/** Always warnings: settings k3s honours but that are probably not what the user meant. */
function advice(value: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  if (value.auths !== undefined) problems.push({ path: ['auths'], message: 'deprecated upstream; use configs.<host:port>.auth', demotable: true });
  const configs = isPlainObject(value.configs) ? value.configs : {};
  for (const [host, entry] of Object.entries(configs)) {
    const auth = isPlainObject(entry) && isPlainObject(entry.auth) ? entry.auth : {};
    for (const [key, field] of Object.entries(auth)) {
      // Never echo the value: it is a secret, or at best the name of one.
      if (isSecretKey(key) && typeof field === 'string' && field.startsWith('$')) {
        problems.push({ path: ['configs', host, 'auth', key], message: "starts with '$' but k3s does not expand variables; use {fromEnv: NAME}", demotable: true });
      }
    }
  }
  return problems;
}

export function checkRegistries(value: unknown, options: CheckOptions): { warnings: string[] } {
  const label = options.label ?? 'the registries file';
  const describe = (p: Problem) => {
    const line = options.locate?.(p.path);
    return `${formatPath(p.path)}${line ? ` (line ${line})` : ''}: ${p.message}`;
  };
  if (value !== null && value !== undefined && !isPlainObject(value)) {
    throw new UserError(`${label} is not a mapping`, 'write it as a k3s registries.yaml with top-level mirrors: and configs:');
  }
  const config = value ?? {};
  const { validate } = schemaValidator();
  const schemaFound = validate(config) ? [] : (validate.errors ?? []).map((e) => schemaProblem(e));
  const problems = [...schemaFound.filter((p): p is Problem => p !== undefined), ...semanticProblems(config, options.nodeVisibleDirs, options.nodeFileHint ? `; ${options.nodeFileHint}` : '')];
  const fatal = problems.filter((p) => options.strict || !p.demotable);
  const warnings = [...problems.filter((p) => !fatal.includes(p)), ...advice(config)].map(describe);
  if (fatal.length) {
    // One line (problem: fix), numbered because a problem's own text may hold "; ".
    const one = fatal.length === 1;
    const list = one ? describe(fatal[0]!) : fatal.map((p, i) => `(${i + 1}) ${describe(p)}`).join('; ');
    const them = one ? 'it' : 'them';
    const fix = fatal.some((p) => p.demotable)
      ? `fix ${them}, or pass --no-strict to only warn about unknown keys and paths the nodes may not see`
      : `fix ${them} (k3s would fail to read the file)`;
    throw new UserError(`${label} has ${fatal.length} problem${one ? '' : 's'}: ${list}`, fix);
  }
  return { warnings };
}
