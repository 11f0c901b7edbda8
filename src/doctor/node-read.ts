/**
 * What doctor reads inside one k3s node, in one `docker exec NODE sh -c SCRIPT`: the node's clock,
 * /etc/hosts, the registries.yaml k3s was pointed at, the hosts.toml k3s generated for our hosts,
 * containerd's config.toml (credentials: parsed in memory, never printed), every CA file those
 * hosts.toml name, and the tail of containerd's log. The script is POSIX sh with only cat, date,
 * sed and tail (busybox, and the busybox-like tools of k3s's image); it carries no secret. Each
 * part of its output follows a marker line, so one missing file does not hide the others. Pure.
 */
import { NODE_CA_FILE, NODE_CONFIG_DIR } from '../spec.js';
import { readGoQuoted } from './go-string.js';

/** k3s's own paths on a node (k3s pkg/agent/config: <data-dir>/agent/...). */
export const NODE_PATHS = {
  hosts: '/etc/hosts',
  registriesYaml: `${NODE_CONFIG_DIR}/registries.yaml`,
  certsDir: '/var/lib/rancher/k3s/agent/etc/containerd/certs.d',
  configToml: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml',
  containerdLog: '/var/lib/rancher/k3s/agent/containerd/containerd.log',
} as const;

/** Enough log for the last pulls; a node that ran for weeks has megabytes. */
export const LOG_LINES = 3000;
const MARK = '@@k3s-devreg-doctor@@';
const MISSING = '@@k3s-devreg-missing@@';

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
export const hostsTomlPath = (host: string) => `${NODE_PATHS.certsDir}/${host}/hosts.toml`;

/** The script for `sh -c`; `hosts` are our registry hosts (container-registry.local:5000, localhost:<port>). */
export function nodeReadScript(hosts: readonly string[]): string {
  const tomls = hosts.map((h) => shQuote(hostsTomlPath(h))).join(' ');
  return [
    // Each part starts on a line of its own, even after a file without a final newline.
    `part() { printf '\\n${MARK} %s\\n' "$1"; }`,
    `show() { cat "$1" 2>/dev/null || echo '${MISSING}'; }`,
    'part clock; date +%s',
    `part hosts; show ${NODE_PATHS.hosts}`,
    `part registries.yaml; show ${shQuote(NODE_PATHS.registriesYaml)}`,
    `for f in ${tomls}; do part "hosts.toml $f"; show "$f"; done`,
    `part config.toml; show ${shQuote(NODE_PATHS.configToml)}`,
    // The CA files the hosts.toml name (ca = ["..."] or ca = "..."), and ours in any case.
    `{ echo ${shQuote(NODE_CA_FILE)}; sed -n 's/^[[:space:]]*ca[[:space:]]*=[[:space:]]*\\[*[[:space:]]*"\\([^"]*\\)".*/\\1/p' ${tomls} 2>/dev/null; } | while read -r ca; do part "file $ca"; show "$ca"; done`,
    `part containerd.log; tail -n ${LOG_LINES} ${shQuote(NODE_PATHS.containerdLog)} 2>/dev/null || show ${shQuote(NODE_PATHS.containerdLog)}`,
  ].join('\n');
}

export interface NodeRead {
  /** The node's clock (date +%s), in seconds. */
  clock?: number;
  hosts?: string;
  registriesYaml?: string;
  /** By our host: the hosts.toml k3s generated for it, undefined when there is none. */
  hostsToml: Record<string, string | undefined>;
  configToml?: string;
  /** The CA files named in hosts.toml (and NODE_CA_FILE), by path: undefined when missing. */
  files: Record<string, string | undefined>;
  containerdLog?: string;
}

export function parseNodeRead(stdout: string): NodeRead {
  const read: NodeRead = { hostsToml: {}, files: {} };
  for (const part of `\n${stdout}`.split(`\n${MARK} `).slice(1)) {
    const newline = part.indexOf('\n');
    const name = newline === -1 ? part : part.slice(0, newline);
    const raw = newline === -1 ? '' : part.slice(newline + 1);
    const text = raw.trim() === MISSING ? undefined : raw;
    if (name === 'clock') {
      const seconds = Number(raw.trim());
      if (raw.trim() !== '' && Number.isFinite(seconds)) read.clock = seconds;
    } else if (name === 'hosts') read.hosts = text;
    else if (name === 'registries.yaml') read.registriesYaml = text;
    else if (name === 'config.toml') read.configToml = text;
    else if (name === 'containerd.log') read.containerdLog = text;
    else if (name.startsWith('hosts.toml ')) {
      const host = name.slice('hosts.toml '.length).slice(NODE_PATHS.certsDir.length + 1).replace(/\/hosts\.toml$/, '');
      read.hostsToml[host] = text;
    } else if (name.startsWith('file ')) read.files[name.slice('file '.length)] = text;
  }
  return read;
}

/** One `[table]` of a TOML file as k3s writes it: string values (Go %q) and string arrays, by key. */
export interface TomlTable {
  header: string;
  values: Record<string, string[]>;
}

/** The tables of a k3s-written TOML file; enough of TOML for hosts.toml and config.toml, no more. */
export function tomlTables(text: string): TomlTable[] {
  const tables: TomlTable[] = [{ header: '', values: {} }];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      tables.push({ header: line.replace(/^\[+\s*|\s*\]+$/g, ''), values: {} });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim().replace(/^"(.*)"$/, '$1');
    const strings: string[] = [];
    for (let i = eq + 1; i < line.length; i++) {
      if (line[i] === '"') {
        const [value, next] = readGoQuoted(line, i);
        strings.push(value);
        i = next - 1;
      } else if (line[i] === "'") {
        const end = line.indexOf("'", i + 1);
        strings.push(line.slice(i + 1, end === -1 ? line.length : end));
        i = end === -1 ? line.length : end;
      } else if (line[i] === '#') break;
    }
    tables.at(-1)!.values[key] = strings.length > 0 ? strings : [line.slice(eq + 1).trim()];
  }
  return tables;
}

/** The credentials containerd's config.toml holds for a host (`registry.configs."<host>".auth`), as k3s writes them (config version 2 or 3). */
export function configTomlAuth(text: string, host: string): { username?: string; password?: string; auth?: string } | undefined {
  const table = tomlTables(text).find((t) => {
    const m = /\.registry\.configs\.(?:"([^"]+)"|'([^']+)'|([^.\s]+))\.auth$/.exec(t.header);
    return m && (m[1] ?? m[2] ?? m[3]) === host;
  });
  if (!table) return undefined;
  const one = (key: string) => table.values[key]?.[0];
  const [username, password, auth] = [one('username'), one('password'), one('auth')];
  return { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(auth ? { auth } : {}) };
}
