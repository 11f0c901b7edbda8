/**
 * Facts about k3s releases that decide whether our registry can work on a node.
 * k3s v1.29.3, v1.28.8 and v1.27.12 (and v1.26.15, cut from the same change) ignore
 * `configs.<host>.tls.ca_file` for a mirror whose only endpoint is the registry itself (k3s issue
 * 9839, fixed by k3s PRs 9853, 9917, 9918): exactly our registry, so every pull fails with
 * `x509: certificate signed by unknown authority`.
 */
import { UserError } from './errors.js';

export const CA_REGRESSION_RELEASES = ['v1.29.3', 'v1.28.8', 'v1.27.12', 'v1.26.15'] as const;

/** The k3s release of an image tag or kubelet version: `rancher/k3s:v1.28.8-k3s1`, `v1.28.8+k3s1` -> `v1.28.8`. */
export function k3sRelease(versionOrImage: string): string | undefined {
  const tag = versionOrImage.includes(':') ? versionOrImage.slice(versionOrImage.lastIndexOf(':') + 1) : versionOrImage;
  return /^v?(\d+\.\d+\.\d+)(?:[-+](?:rc\d+[-+])?(?:k3s|rke2r)\d+)?$/.exec(tag)?.[1]?.replace(/^/, 'v');
}

export function hasCaRegression(versionOrImage: string): boolean {
  const release = k3sRelease(versionOrImage);
  return release !== undefined && (CA_REGRESSION_RELEASES as readonly string[]).includes(release);
}

/**
 * Refuses a k3s that cannot trust our CA. `source` says where the version came from, for the
 * message (e.g. "--k3s-image", "k3s-devreg.yaml (k3sImage)", "node worker-1").
 */
export function refuseCaRegression(versionOrImage: string, source: string, fix: string): void {
  if (!hasCaRegression(versionOrImage)) return;
  throw new UserError(
    `k3s ${k3sRelease(versionOrImage)} (from ${source}) ignores the registry CA in registries.yaml (k3s issue 9839), so every pull from the registry would fail with x509: certificate signed by unknown authority`,
    fix,
  );
}
