/**
 * A new registries.yaml shown the first time, without its secrets (no diff: nothing to compare with,
 * and the diff library costs start-up time a fresh render need not pay).
 */
import { parse } from 'yaml';
import { redact } from '../redact.js';
import { serializeRegistries } from '../render/registries-yaml.js';
import { redactRegistries } from './serialize.js';

/** The redacted YAML of a text, or undefined when it is not YAML (then nothing of it is shown). */
export function redactedYaml(text: string): string | undefined {
  try {
    return serializeRegistries(redactRegistries(parse(text, { version: '1.1' }) ?? {}));
  } catch {
    return undefined;
  }
}

export const indent = (text: string): string =>
  text.trimEnd().split('\n').map((line) => `  ${line}`).join('\n');

export function redactedPreview(newText: string, label: string): string {
  const next = redactedYaml(newText);
  if (next === undefined) return `${label}: the new content is not valid YAML (not shown)`;
  return previewLines(next, label);
}

/** The same preview from the document the new file is rendered from: no YAML to parse back. */
export function redactedPreviewOf(document: object, label: string): string {
  return previewLines(serializeRegistries(redactRegistries(document)), label);
}

function previewLines(redactedText: string, label: string): string {
  // Registered secrets are removed again: a secret could also sit in a key or an endpoint URL.
  return redact([`${label}: new file (secrets redacted):`, indent(redactedText)].join('\n'));
}
