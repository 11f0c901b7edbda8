/**
 * Why a pull from our registry failed, read from the words containerd logs on the node
 * (containerd.log) or the kubelet repeats in a pod's events ("Failed to pull image ..."). The pull
 * error names one endpoint only: containerd tries each in turn, moves on past a 404 without a word
 * and reports the first other failure (or "not found" when all said 404); the classes below are the Go error
 * texts that end those messages (net/http, crypto/x509, containerd's remotes/docker), each with
 * what it means in our setup and what to do. Pure: no I/O.
 */
import { NODE_CA_FILE, NODE_PORT, REGISTRY_HOST, REGISTRY_PORT } from '../spec.js';
import { UP } from './finding.js';

export type PullErrorKind =
  | 'x509'
  | 'unauthorized'
  | 'forbidden'
  | 'no-such-host'
  | 'connection-refused'
  | 'mirror-not-found'
  | 'no-route'
  | 'manifest-unknown'
  | 'http-to-https'
  | 'timeout';

export interface PullErrorExplanation {
  kind: PullErrorKind;
  cause: string;
  fix: string;
}

const ADDRESS = `${REGISTRY_HOST}:${REGISTRY_PORT}`;
const UP_NODES = `${UP}, which writes the node files again and restarts the nodes whose registries.yaml changed`;
const HOSTS_FIX = `run k3s-devreg up (it waits until every node's /etc/hosts maps ${REGISTRY_HOST} to the registry Service again); if that line keeps missing, read kubectl --namespace container-registry logs daemonset/registry-hosts`;

interface Rule {
  kind: PullErrorKind;
  test: RegExp;
  explain: (match: RegExpExecArray) => Omit<PullErrorExplanation, 'kind'>;
}

// First match wins: a TLS or HTTP answer says more than the network words that may precede it.
const RULES: readonly Rule[] = [
  {
    kind: 'x509',
    test: /x509: certificate is valid for ([^"]*?), not ([^\s",]+)/,
    explain: (m) => ({
      cause: `the registry's certificate does not cover the name ${m[2]} (it is valid for ${m[1]})`,
      fix: `pull by ${ADDRESS}/<repository>:<tag> or localhost:<port>/<repository>:<tag> (the names our certificate and mirrors cover); run k3s-devreg up if the certificate lacks them`,
    }),
  },
  {
    kind: 'x509',
    test: /x509: certificate is not valid for any names, but wanted to match ([^\s",]+)/,
    explain: (m) => ({
      cause: `the certificate that answered for ${m[1]} names no host at all: not our registry's certificate (ours covers ${REGISTRY_HOST} and localhost)`,
      fix: `pull by ${ADDRESS}/<repository>:<tag> or localhost:<port>/<repository>:<tag>; if that is the name, check that ${REGISTRY_HOST} maps to the registry Service in the node's /etc/hosts and run k3s-devreg up`,
    }),
  },
  {
    kind: 'x509',
    test: /x509: certificate has expired or is not yet valid(: [^"]*)?/,
    explain: (m) => ({
      cause: `the registry's certificate is outside its validity dates as the node's clock sees them${m[1] ?? ''}`,
      fix: 'run k3s-devreg up to renew the certificate; if it is new, the node\'s clock is wrong (compare `date` in the node with this machine, e.g. after Docker Desktop\'s VM slept)',
    }),
  },
  {
    kind: 'x509',
    test: /x509: (certificate signed by unknown authority|[^"]*)/,
    explain: () => ({
      cause: `containerd on the node does not trust the registry's certificate: the CA it reads (${NODE_CA_FILE}, named in registries.yaml's tls.ca_file) is not the CA that signed it, or k3s ignored ca_file (k3s v1.29.3, v1.28.8, v1.27.12 and v1.26.15 do: k3s issue 9839)`,
      fix: `run k3s-devreg up, which writes the state folder's CA to every node and restarts them; on one of those k3s releases, pin another k3s image`,
    }),
  },
  {
    kind: 'http-to-https',
    test: /server gave HTTP response to HTTPS client/,
    explain: () => ({
      cause: 'something that speaks plain http answered where containerd expected our TLS registry: another registry holds that address, or a registries.yaml mirror points elsewhere',
      fix: `pull by ${ADDRESS}/... or the localhost port k3s-devreg up printed; run k3s-devreg up to restore the nodes' registries.yaml`,
    }),
  },
  {
    kind: 'unauthorized',
    test: /401 Unauthorized|unauthorized: authentication required|no basic auth credentials/,
    explain: () => ({
      cause: "the registry refused the node's credentials: the username/password in the node's registries.yaml (configs auth, which k3s copies into containerd's config.toml) differ from the registry's htpasswd, or are missing",
      fix: `${UP_NODES}; it rewrites the htpasswd Secret and registries.yaml from the same credentials.json`,
    }),
  },
  {
    kind: 'forbidden',
    test: /403 Forbidden|denied: requested access to the resource is denied/,
    explain: () => ({
      cause: 'the answer was 403, which our registry (htpasswd: 401 or 200) never sends: a proxy or another server answered for that name',
      fix: `make sure the node reaches the registry directly (${REGISTRY_HOST} in NO_PROXY for k3s if HTTPS_PROXY is set) and that ${REGISTRY_HOST} maps to the registry Service; then run k3s-devreg doctor again`,
    }),
  },
  {
    kind: 'no-such-host',
    test: /lookup ([^\s:]+)(?: on [^:]+:\d+)?: (no such host|server misbehaving|Temporary failure in name resolution|Try again)/,
    explain: (m) => ({
      cause: m[1] === REGISTRY_HOST
        ? `the node cannot resolve ${REGISTRY_HOST}: its /etc/hosts has no line for it (docker rebuilds that file whenever a node container restarts, and the registry-hosts DaemonSet writes the line again once its pod runs)`
        : `the node cannot resolve ${m[1]}`,
      fix: m[1] === REGISTRY_HOST ? HOSTS_FIX : `pull by ${ADDRESS}/... or localhost:<port>/...`,
    }),
  },
  {
    kind: 'connection-refused',
    test: /connect: connection refused/,
    explain: () => ({
      cause: 'nothing listens at the address the node connected to: the registry pod is not running, or the node has no mirror for that name and tried it directly (localhost in a node is the node itself)',
      fix: 'run k3s-devreg status to see whether the registry pod runs; run k3s-devreg up, which restarts it and gives every node the mirrors of its registries.yaml',
    }),
  },
  {
    kind: 'no-route',
    test: /connect: (no route to host|host is unreachable|network is unreachable)/,
    explain: () => ({
      cause: `no machine answers at the address ${REGISTRY_HOST} maps to: the hosts line names an old ClusterIP (the registry Service was deleted and created again)`,
      fix: HOSTS_FIX,
    }),
  },
  {
    kind: 'timeout',
    test: /i\/o timeout|TLS handshake timeout|connect: connection timed out|context deadline exceeded|Client\.Timeout exceeded|request canceled while waiting for connection/,
    explain: () => ({
      cause: `the registry did not answer in time: the address ${REGISTRY_HOST} maps to is not the registry Service's, the registry pod is overloaded or not ready, or a proxy swallows the connection`,
      fix: `compare the node's /etc/hosts line with kubectl --namespace container-registry get service registry; run k3s-devreg up, then k3s-devreg doctor again`,
    }),
  },
  {
    kind: 'manifest-unknown',
    test: /manifest unknown|404 Not Found|: not found\b|name unknown/,
    explain: () => ({
      cause: 'the registry answered, but holds no image of that repository and tag',
      fix: 'push it first (docker push localhost:<port>/<repository>:<tag>), check the spelling and tag in the pod spec, and list what the registry holds with k3s-devreg images ls',
    }),
  },
];

/**
 * An image named localhost:PORT whose error ends at k3s's own endpoint for that name,
 * http://localhost:PORT/v2 (or 127.0.0.1), which k3s lists after our mirror. containerd's resolver
 * moves past a 404 without keeping it and returns the first other failure, so when the mirror said
 * "not found" the error names only this last try: refused (nothing on the node's port), or a 400
 * ("unexpected status from HEAD request to ...") where a node's localhost answers with TLS.
 */
function fallbackRule(port: number): Rule {
  const image = `(?:image|reference) \\\\?"(localhost:${port}/[^"\\\\\\s]+)`;
  const url = `(http://(?:localhost|127\\.0\\.0\\.1):${port}/v2/[^\\s"\\\\]*?)(?:\\\\?")?(?::\\s+|\\s+|$)(.*)$`;
  return {
    kind: 'mirror-not-found',
    test: new RegExp(`${image}[\\s\\S]*?${url}`),
    explain: (m) => ({
      cause: `containerd's last try was ${m[2]!.replace(/(:\d+).*/, '$1')} inside the node: the node's own localhost, which is not the way to the registry (${m[3]!.replace(/\\?"$/, '')}); the endpoint before it, our mirror, answered 'not found' (containerd moves on after a 404 without a word), so ${m[1]} is most likely not in the registry — unless the node has no mirror for localhost:${port}, which the hosts.toml and registries.yaml findings then report`,
      fix: `push it (docker push ${m[1]}) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds; if the node's hosts.toml finding fails, run k3s-devreg up`,
    }),
  };
}

/**
 * The class of a containerd or kubelet pull error, with its cause and fix here; undefined when
 * unknown. `port` is the registry's port on this machine (the localhost:PORT name we mirror).
 */
export function explainPullError(text: string, port: number = NODE_PORT): PullErrorExplanation | undefined {
  for (const rule of [fallbackRule(port), ...RULES]) {
    const match = rule.test.exec(text);
    if (match) return { kind: rule.kind, ...rule.explain(match) };
  }
  return undefined;
}
