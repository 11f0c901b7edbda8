/**
 * The user's registries.yaml plus our registry's entries. Theirs is kept exactly (every mirror,
 * endpoint, rewrite, "*", null entry, auth and TLS setting, unknown keys allowed by --no-strict):
 * we only add keys, and refuse to overwrite one of theirs.
 */
import { UserError } from '../errors.js';
import type { RegistriesConfig } from './types.js';

type Section = 'mirrors' | 'configs' | 'auths';

/** Host names are case-insensitive, so Container-Registry.local:5000 is our key too. */
const sameKey = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function mergeRegistries(ours: RegistriesConfig, theirs: RegistriesConfig): RegistriesConfig {
  const merged = structuredClone(theirs ?? {}) as RegistriesConfig;
  for (const section of ['mirrors', 'configs', 'auths'] as const satisfies Section[]) {
    const add = ours[section];
    if (add === undefined || add === null || Object.keys(add).length === 0) continue;
    const existing = (merged[section] ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(add)) {
      const clash = Object.keys(existing).find((theirKey) => sameKey(theirKey, key));
      if (clash !== undefined) {
        throw new UserError(
          `your registries file sets ${section}.${JSON.stringify(clash)}, which k3s-devreg configures for its own registry`,
          `remove ${section}.${JSON.stringify(clash)} from your registries file; k3s-devreg writes that entry itself`,
        );
      }
    }
    // Their keys first, in their order; ours after them.
    (merged as Record<Section, unknown>)[section] = { ...existing, ...structuredClone(add) };
  }
  return merged;
}
