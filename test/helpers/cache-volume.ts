/** The `docker volume create` argv up's cache step runs (steps/cache.ts), for tests that start a cache by hand. */
import { cacheLabels, cacheVolumeName } from '../../src/cache/spec.js';

export function cacheVolumeCreateArgs(host: string): string[] {
  return ['volume', 'create', ...Object.entries(cacheLabels(host)).flatMap(([k, v]) => ['--label', `${k}=${v}`]), cacheVolumeName(host)];
}
