/** Files shipped in the package's assets/ folder (node scripts, schemas), read at run time. */
import { readFile } from 'node:fs/promises';

export function assetUrl(name: string): URL {
  // Both src/ (tests) and dist/ (the package) sit one level below the package root.
  return new URL(`../assets/${name}`, import.meta.url);
}

export async function readAsset(name: string): Promise<string> {
  return readFile(assetUrl(name), 'utf8');
}
