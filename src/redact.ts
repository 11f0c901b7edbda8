/**
 * Every secret the process learns (passwords, keys, tokens) is registered here, and every line that
 * leaves the process (logs, errors, --verbose command echoes) passes through redact().
 */
const secrets = new Set<string>();
export const REDACTED = '<REDACTED>';

export function registerSecret(secret: string | undefined | null): void {
  // Very short values would redact ordinary words; they are rejected as passwords anyway.
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  return out;
}

export function forgetSecretsForTests(): void {
  secrets.clear();
}
