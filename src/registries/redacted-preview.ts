/**
 * A new registries.yaml shown the first time, without its secrets, from the document it is rendered
 * from (no diff: nothing to compare with; and neither the diff library nor a YAML parser, which cost
 * start-up time a fresh render need not pay).
 */
import { redact } from '../redact.js';
import { serializeRegistries } from '../render/registries-yaml.js';
import { redactRegistries } from './serialize.js';

export const indent = (text: string): string =>
  text.trimEnd().split('\n').map((line) => `  ${line}`).join('\n');

/** The same preview from the document the new file is rendered from: no YAML to parse back. */
export function redactedPreviewOf(document: object, label: string): string {
  return previewLines(serializeRegistries(redactRegistries(document)), label);
}

export function previewLines(redactedText: string, label: string): string {
  // Registered secrets are removed again: a secret could also sit in a key or an endpoint URL.
  return redact([`${label}: new file (secrets redacted):`, indent(redactedText)].join('\n'));
}
