/**
 * Files of the package itself (package.json, assets/, example/), read at run time. The one module
 * that finds them from import.meta.url: src/ (tests) and dist/ (the package, bundled into files
 * directly below it) both sit one level below the package root.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export const packageUrl = (path: string): URL => new URL(`../${path}`, import.meta.url);

export const assetUrl = (name: string): URL => packageUrl(`assets/${name}`);

export async function readAsset(name: string): Promise<string> {
  return readFile(assetUrl(name), 'utf8');
}

let version: string | undefined;
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packageUrl('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
