/**
 * What changes in a registries.yaml, shown without its secrets. Both sides are parsed, redacted and
 * written back the same way before diffing, so the diff can only ever contain <REDACTED>, and
 * comments (which may mention a password) never reach the output.
 */
import { createTwoFilesPatch } from 'diff';
import { parse } from 'yaml';
import { redact } from '../redact.js';
import { indent, previewLines } from './redacted-preview.js';
import { serializeRegistries } from '../render/registries-yaml.js';
import { redactRegistries } from './serialize.js';
import { formatPath, mapScalars } from './types.js';

/** The redacted YAML of a text, or undefined when it is not YAML (then nothing of it is shown). */
export function redactedYaml(text: string): string | undefined {
  try {
    return serializeRegistries(redactRegistries(parse(text, { version: '1.1' }) ?? {}));
  } catch {
    return undefined;
  }
}

export function redactedPreview(newText: string, label: string): string {
  const next = redactedYaml(newText);
  if (next === undefined) return `${label}: the new content is not valid YAML (not shown)`;
  return previewLines(next, label);
}

/** Every secret value by its path, to say which credentials changed without showing any. */
function secretValues(node: unknown): Map<string, string> {
  const found = new Map<string, string>();
  mapScalars(node, (path, value) => found.set(formatPath(path), JSON.stringify(value)));
  return found;
}

function changedSecrets(oldText: string, newText: string): string[] {
  try {
    const before = secretValues(parse(oldText, { version: '1.1' }));
    const after = secretValues(parse(newText, { version: '1.1' }));
    return [...after].filter(([path, value]) => before.has(path) && before.get(path) !== value).map(([path]) => path);
  } catch {
    return [];
  }
}

export function redactedDiff(oldText: string | undefined, newText: string, label: string): string {
  if (oldText === undefined) return redactedPreview(newText, label);
  const next = redactedYaml(newText);
  if (next === undefined) return `${label}: the new content is not valid YAML (not shown)`;
  const lines = (() => {
    if (oldText === newText) return [`${label}: unchanged`];
    const previous = redactedYaml(oldText);
    if (previous === undefined) {
      return [`${label}: replacing content that is not valid YAML (not shown) with (secrets redacted):`, indent(next)];
    }
    const secrets = changedSecrets(oldText, newText);
    const secretLine = secrets.length ? [`credentials changed (values not shown): ${secrets.join(', ')}`] : [];
    if (previous === next) {
      return [secrets.length ? `${label}: only credentials changed (values not shown): ${secrets.join(', ')}` : `${label}: only comments, formatting or redacted values changed`];
    }
    const patch = createTwoFilesPatch(`${label} (current)`, `${label} (new)`, previous, next, undefined, undefined, { context: 3 });
    // Drop the "=====" banner: a plain unified diff, as `diff -u` prints on the nodes.
    const body = patch.split('\n').filter((line) => !/^(Index: |={10,})/.test(line));
    return [`${label}: changes (secrets redacted):`, body.join('\n').trimEnd(), ...secretLine];
  })();
  // Registered secrets are removed again: a secret could also sit in a key or an endpoint URL.
  return redact(lines.join('\n'));
}
