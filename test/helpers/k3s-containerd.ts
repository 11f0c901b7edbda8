/**
 * What k3s writes for containerd from a registries.yaml, transcribed as facts about k3s (not our
 * product) so a real containerd can be configured exactly as on a k3s node.
 *
 * Followed, for the pinned k3s v1.31.5 (src/spec.ts DEFAULT_K3S_IMAGE; containerd 1.7 era):
 * - k3s-io/k3s pkg/agent/containerd/config.go: getHostConfigs, normalizeEndpointAddress,
 *   defaultHostConfig, configForHost, endpointHasConfig (the same in every stored version from the
 *   registry rework up to the containerd-2 switch);
 * - pkg/agent/templates/templates.go: HostsTomlTemplate (default endpoint at the top level, then
 *   `[host]`, then one `[host."<url>"]` per mirror endpoint with its rewrites) and the version-2
 *   ContainerdConfigTemplate's registry part (`config_path` plus `registry.configs."<host>".auth`,
 *   values through Go's %q). The index holds no copy tagged v1.31.5: read from the k3s fork
 *   maxxieb/k3s at 99468733 (v2 template, no trimEmpty) and k3s-vip/k3s (later, same hosts template).
 * The regressed shape (v1.29.3, v1.28.8, v1.27.12; k3s issues 9839 and 9983): the same top level,
 * but no `[host]` table, which containerd refuses ("invalid `host` tree"); the fix (k3s PR 9853,
 * backports 9917/9918) added the `[host]` line (its output is quoted in rancher/rke2 issue 5658).
 * Blank lines follow later k3s (trimEmpty); TOML ignores them.
 */
import { parse } from 'yaml';
import type { RegistriesConfig, RegistryConfigEntry } from '../../src/registries/types.js';

/** k3s passes spegel's default address even with the embedded mirror off (writeContainerdHosts). */
const MIRROR_ADDR = '127.0.0.1:6443';
export type K3sHostsShape = 'fixed' | 'ca-regression';

interface EndpointUrl {
  scheme: string;
  host: string;
  path: string;
}
interface Endpoint {
  url: EndpointUrl | null;
  config: RegistryConfigEntry;
  rewrites?: Record<string, string>;
  overridePath?: boolean;
}
interface HostConfig {
  default: Endpoint | null;
  endpoints: Endpoint[];
}

const urlString = (u: EndpointUrl | null): string => (u && u.host ? `${u.scheme}://${u.host}${u.path}` : '');

/** containerd remotes/docker IsLocalhost: "localhost" or a loopback IP, port ignored. */
function isLocalhost(hostport: string): boolean {
  const host = hostport.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([^:]*)(:\d+)?$/, '$1');
  return host === 'localhost' || /^127\./.test(host) || host === '::1';
}
const defaultHost = (host: string): string => (host === 'docker.io' ? 'registry-1.docker.io' : host);

function normalizeEndpointAddress(endpoint: string): { registry: string; url: EndpointUrl; override: boolean } {
  const match = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?\/\/([^/?#]*)([^?#]*)/.exec(endpoint.includes('://') ? endpoint : `//${endpoint}`);
  if (!match) throw new Error(`invalid endpoint URL ${endpoint}`);
  const [, parsedScheme = '', host = '', path = ''] = match;
  const port = /:(\d+)$/.exec(host)?.[1] ?? '';
  const scheme = parsedScheme || (isLocalhost(host) && port !== '' && port !== '443' && host !== MIRROR_ADDR ? 'http' : 'https');
  const url = { scheme, host: defaultHost(host), path };
  const registry = url.host === 'registry-1.docker.io' ? 'docker.io' : host;
  if (['', '/', '/v2'].includes(path)) return { registry, url: { ...url, path: '/v2' }, override: false };
  return { registry, url, override: true };
}

function configForHost(configs: Record<string, RegistryConfigEntry | null>, host: string): RegistryConfigEntry {
  const modified = defaultHost(host);
  if (modified !== host && configs[modified]) return configs[modified] ?? {};
  return configs[host] ?? {};
}

const defaultHostConfig = (host: string, config: RegistryConfigEntry): HostConfig => ({
  default: { url: host === '*' ? null : normalizeEndpointAddress(host).url, config },
  endpoints: [],
});

const endpointHasConfig = (e: Endpoint | null): boolean =>
  !!e && (!!e.overridePath || !!e.config.auth || !!e.config.tls || Object.keys(e.rewrites ?? {}).length > 0);

/** config.go getHostConfigs, with noDefaultEndpoint false (k3d sets no --disable-default-registry-endpoint). */
export function k3sHostConfigs(registry: RegistriesConfig): Map<string, HostConfig> {
  const configs = registry.configs ?? {};
  const hosts = new Map<string, HostConfig>();
  const dirOf = (host: string) => (host === '*' ? '_default' : host);
  for (const [host, config] of Object.entries(configs)) hosts.set(dirOf(host), defaultHostConfig(host, config ?? {}));
  for (const [host, mirror] of Object.entries(registry.mirrors ?? {})) {
    let config = hosts.get(host);
    if (!config) {
      config = defaultHostConfig(host, configForHost(configs, host));
      if (host === '*') config.default = { url: { scheme: '', host: '', path: '' }, config: {} };
    }
    const seen = new Set<string>();
    const endpoints = mirror?.endpoint ?? [];
    endpoints.forEach((raw, i) => {
      const { registry: name, url, override } = normalizeEndpointAddress(raw);
      if (seen.has(urlString(url))) return;
      seen.add(urlString(url));
      const rewrites = url.host !== MIRROR_ADDR ? (mirror?.rewrite ?? undefined) : undefined;
      const ep: Endpoint = { config: configForHost(configs, name), rewrites, overridePath: override, url };
      // The last endpoint, when it is the registry itself, becomes the default (`server =`).
      if (i + 1 === endpoints.length && urlString(config!.default?.url ?? null) === urlString(url)) config!.default = ep;
      else config!.endpoints.push(ep);
    });
    hosts.set(dirOf(host), config);
  }
  for (const [host, config] of hosts) if (config.endpoints.length === 0 && !endpointHasConfig(config.default)) hosts.delete(host);
  return hosts;
}

const runeEscapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
/** Go's printf "%q" (strconv.Quote): printable runes (unicode.IsPrint) kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) out += ch;
    else if (runeEscapes[ch]) out += runeEscapes[ch];
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

function tlsLines(config: RegistryConfigEntry, indent: string): string[] {
  const tls = config.tls;
  if (!tls) return [];
  return [
    ...(tls.ca_file ? [`${indent}ca = [${goQuote(tls.ca_file)}]`] : []),
    ...(tls.cert_file || tls.key_file ? [`${indent}client = [[${goQuote(tls.cert_file ?? '')}, ${goQuote(tls.key_file ?? '')}]]`] : []),
    ...(tls.insecure_skip_verify ? [`${indent}skip_verify = true`] : []),
  ];
}

/** templates.HostsTomlTemplate for one host directory. */
export function renderHostsToml(config: HostConfig, shape: K3sHostsShape = 'fixed'): string {
  const lines = ['# File generated by k3s. DO NOT EDIT.'];
  const d = config.default;
  if (d) {
    // The template tests the URL pointer, so the wildcard's empty URL still writes `server = ""`.
    if (d.url) lines.push(`server = "${urlString(d.url)}"`, 'capabilities = ["pull", "resolve", "push"]');
    lines.push(...tlsLines(d.config, ''));
  }
  if (shape === 'fixed') lines.push('', '[host]');
  for (const e of config.endpoints) {
    lines.push('', `[host."${urlString(e.url)}"]`, '  capabilities = ["pull", "resolve"]');
    if (e.overridePath) lines.push('  override_path = true');
    lines.push(...tlsLines(e.config, '  '));
    const rewrites = Object.entries(e.rewrites ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    // Pattern and replacement go in unescaped, as the template writes them.
    if (rewrites.length > 0) lines.push(`  [host."${urlString(e.url)}".rewrite]`, ...rewrites.map(([p, r]) => `    "${p}" = "${r}"`));
  }
  return `${lines.join('\n')}\n`;
}

/** The registry part of k3s's version-2 config.toml template: hosts from config_path, credentials by host. */
export function registryConfigToml(registry: RegistriesConfig, certsDir: string): string {
  const lines = ['[plugins."io.containerd.grpc.v1.cri".registry]', `  config_path = ${goQuote(certsDir)}`];
  const configs = Object.entries(registry.configs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [host, config] of configs) {
    const auth = config?.auth;
    if (!auth) continue;
    lines.push('', `[plugins."io.containerd.grpc.v1.cri".registry.configs."${host}".auth]`);
    if (auth.username) lines.push(`  username = ${goQuote(auth.username)}`);
    if (auth.password) lines.push(`  password = ${goQuote(auth.password)}`);
    if (auth.auth) lines.push(`  auth = ${goQuote(auth.auth)}`);
    if (auth.identity_token) lines.push(`  identitytoken = ${goQuote(auth.identity_token)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** registries.yaml as k3s reads it (YAML 1.1, as yaml.v2 does). */
export const parseRegistriesYaml = (text: string): RegistriesConfig => (parse(text, { version: '1.1' }) ?? {}) as RegistriesConfig;

/** Every certs.d/<dir>/hosts.toml k3s writes for a registries.yaml, by directory name. */
export function k3sHostsFiles(registry: RegistriesConfig, shape: K3sHostsShape = 'fixed'): Record<string, string> {
  return Object.fromEntries([...k3sHostConfigs(registry)].map(([dir, config]) => [dir, renderHostsToml(config, shape)]));
}

/**
 * The hosts.toml shape a k3s release writes, for the releases transcribed here (k3s issue 9839 and
 * its backports 9917/9918: the `[host]`-less shape shipped in v1.29.3, v1.28.8, v1.27.12 and, cut
 * from the same change, v1.26.15; the next patch of each line, and every v1.30 and v1.31 release,
 * writes the fixed one). Earlier releases used an older template, not transcribed: undefined.
 */
export function k3sHostsShape(release: string): K3sHostsShape | undefined {
  const m = /^v?1\.(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const [minor, patch] = [Number(m[1]), Number(m[2])];
  const firstBroken: Record<number, number> = { 26: 15, 27: 12, 28: 8, 29: 3 };
  if (minor === 30 || minor === 31) return 'fixed';
  const broken = firstBroken[minor];
  if (broken === undefined || patch < broken) return undefined;
  if (patch === broken) return 'ca-regression';
  return minor === 26 ? undefined : 'fixed';
}
