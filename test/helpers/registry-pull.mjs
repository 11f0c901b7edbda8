// @ts-check
/**
 * A registry client that runs in a busybox container on a docker network (the cache is reachable
 * there only, as clusters reach it): pulls one image by the registry HTTP API, the manifest and
 * every blob it names, and times itself from inside the container (busybox `ts` has microseconds),
 * so docker's own start-up or exec overhead stays out of the number. Used by the docker tier
 * (cache-proxy.test.ts) and `npm run bench` (bench-cache.mjs): plain JavaScript with JSDoc types, so
 * node runs it as it is.
 */

export const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

// VERIFY=1 hashes every blob as it arrives (what a real client does); VERIFY=0 only transfers them.
// The manifest's sha256 digests are its config and layers (one image manifest, not a list).
const PULL = `set -eo pipefail
now() { echo | ts %.s | tr -d ' '; }
base="http://$REGISTRY/v2/$REPO"
t0=$(now)
timeout 120 wget -q -O /tmp/manifest --header "Accept: $ACCEPT" "$base/manifests/$REF"
for d in $(grep -o 'sha256:[0-9a-f]\\{64\\}' /tmp/manifest | sort -u); do
  if [ "$VERIFY" = 1 ]; then
    echo "blob $d sha256:$(timeout 120 wget -q -O - "$base/blobs/$d" | sha256sum | cut -d' ' -f1)"
  else
    timeout 120 wget -q -O /dev/null "$base/blobs/$d"
  fi
done
t1=$(now)
echo "manifest sha256:$(sha256sum /tmp/manifest | cut -d' ' -f1)"
echo "time $t0 $t1"
`;

// `timeout` bounds each try, connect included (busybox 1.35's wget -T segfaults): a container just
// started on a busy daemon can drop the first SYNs, and an unbounded connect then waits out the
// kernel's retries (about two minutes) per try: the cache-proxy setup was seen to hang 240 s.
const READY = `for i in $(seq 300); do timeout 3 wget -q -O /dev/null "http://$REGISTRY/v2/" && exit 0; sleep 0.1; done
echo "no registry answering on http://$REGISTRY/v2/ after 30 s" >&2; exit 1
`;

// A proxied blob is stored by a goroutine after it was served (distribution v2.8
// registry/proxy/proxyblobstore.go ServeBlob/storeLocal); the repository's layer link is written last
// (linkedBlobWriter.Commit), and is what the cache checks before it goes to the upstream.
const STORED = `for i in $(seq 600); do
  missing=0
  for hex in $HEXES; do [ -s "/data/docker/registry/v2/repositories/$REPO/_layers/sha256/$hex/link" ] || missing=1; done
  [ "$missing" = 0 ] && exit 0
  sleep 0.1
done
echo "blobs of $REPO not stored by the cache after 60 s" >&2; exit 1
`;

/**
 * @typedef {{ registry: string, repo: string, ref: string, verify?: boolean }} PullTarget
 * @typedef {{ manifest: string, blobs: { digest: string, sha256: string }[], ms: number }} PullResult
 */

/** @param {Record<string, string>} env @returns {string[]} */
const envArgs = (env) => Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);

/** @param {PullTarget} target @returns {string[]} */
const pullEnv = (target) =>
  envArgs({ REGISTRY: target.registry, REPO: target.repo, REF: target.ref, ACCEPT: MANIFEST_TYPE, VERIFY: target.verify === false ? '0' : '1' });

/**
 * `docker run` of one pull in a fresh client container on `network` (removed when it ends).
 * @param {{ network: string, image: string, label: string } & PullTarget} options @returns {string[]}
 */
export function pullRunArgs(options) {
  return ['run', '--rm', '--label', options.label, '--network', options.network, ...pullEnv(options), options.image, 'sh', '-c', PULL];
}

/**
 * `docker exec` of one pull in a client container already running on the network (the bench's).
 * @param {{ container: string } & PullTarget} options @returns {string[]}
 */
export function pullExecArgs(options) {
  return ['exec', ...pullEnv(options), options.container, 'sh', '-c', PULL];
}

/**
 * Waits in a client container until `registry` answers GET /v2/ (it is published on no host port).
 * @param {{ network: string, image: string, label: string, registry: string }} options @returns {string[]}
 */
export function readyRunArgs(options) {
  return ['run', '--rm', '--label', options.label, '--network', options.network, ...envArgs({ REGISTRY: options.registry }), options.image, 'sh', '-c', READY];
}

/**
 * Waits, with the cache's data volume mounted read-only, until the cache has stored every blob in `digests`.
 * @param {{ volume: string, image: string, label: string, repo: string, digests: string[] }} options @returns {string[]}
 */
export function storedRunArgs(options) {
  const hexes = options.digests.map((d) => d.replace(/^sha256:/, '')).join(' ');
  return ['run', '--rm', '--label', options.label, '-v', `${options.volume}:/data:ro`, ...envArgs({ REPO: options.repo, HEXES: hexes }), options.image, 'sh', '-c', STORED];
}

/** @param {string} stdout what the pull script printed @returns {PullResult} */
export function parsePull(stdout) {
  const lines = stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const manifest = lines.find((l) => l[0] === 'manifest')?.[1];
  const time = lines.find((l) => l[0] === 'time');
  if (!manifest || !time) throw new Error(`the pull printed no manifest or time line:\n${stdout}`);
  return {
    manifest,
    blobs: lines.filter((l) => l[0] === 'blob').map(([, digest = '', sha256 = '']) => ({ digest, sha256 })),
    ms: (Number(time[2]) - Number(time[1])) * 1000,
  };
}
