/**
 * doctor's checks of the files one k3s node pulls with: its /etc/hosts line, the registries.yaml k3s
 * read (against the state folder's, and against what k3s generated from it: k3s reads it only when
 * it starts), the hosts.toml k3s generated for our hosts, and the credentials in containerd's
 * config.toml. Pure: each takes what was read and returns one Finding. Passwords are compared in
 * memory and never named.
 */
import { DEFAULT_K3S_IMAGE, REGISTRY_HOST, registryAddress } from '../spec.js';
import type { RegistryCredentials } from '../render/registries-yaml.js';
import { parseRegistriesYaml } from '../registries/load.js';
import type { RegistriesConfig } from '../registries/types.js';
import { finding, UP, type Finding } from './finding.js';
import { configTomlAuth, hostsTomlPath, NODE_PATHS, tomlTables, type NodeRead } from './node-read.js';

const restartFix = (node: string) =>
  `${UP} (it restarts the nodes when registries.yaml changed since they started); if this stays, restart the node: docker restart ${node}`;
const ADDRESS = registryAddress();
const REGISTRY_URL = `https://${ADDRESS}/v2`;

export const localHost = (port: number) => `localhost:${port}`;
/** The hosts doctor looks for in a node: the registry's own name and, when the port is known, the name docker pushes to. */
export const ourHosts = (port?: number): string[] => [ADDRESS, ...(port !== undefined ? [localHost(port)] : [])];


export function hostsEntryFinding(node: string, read: NodeRead, address: string | undefined, serviceIp: string | undefined): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('hosts entry', node, rest);
  if (read.hosts === undefined) return check({ status: 'fail', summary: `cannot read ${NODE_PATHS.hosts} in the node`, fix: `check the node: docker exec ${node} cat /etc/hosts` });
  const line = read.hosts.split('\n').find((l) => l.split('#')[0]!.split(/\s+/).includes(REGISTRY_HOST))?.trim();
  const fix = `${UP}: it waits until the registry-hosts DaemonSet has written the line on every node; if it stays missing, read kubectl --namespace container-registry logs daemonset/registry-hosts`;
  if (!address) {
    return check({ status: 'fail', summary: `no ${REGISTRY_HOST} line in ${NODE_PATHS.hosts}: containerd cannot resolve the registry (docker rebuilds the file whenever the node container starts)`, fix });
  }
  const evidence = line ?? `${address} ${REGISTRY_HOST}`;
  if (serviceIp && address !== serviceIp) {
    return check({ status: 'fail', summary: `${REGISTRY_HOST} maps to ${address}, but the registry Service's ClusterIP is ${serviceIp}`, evidence, fix });
  }
  return check({ status: 'ok', summary: `${REGISTRY_HOST} -> ${address}${serviceIp ? ' (the registry Service)' : ' (the Service\'s ClusterIP was not known to compare)'}`, evidence });
}

export interface RegistriesFacts {
  /** The state folder's node/registries.yaml and when it was last written. */
  stateText?: string;
  stateMtime?: Date;
  /** State.StartedAt of the node container: when k3s (its main process) last started. */
  startedAt?: string;
  port?: number;
  stateDir: string;
}

const authOf = (config: RegistriesConfig) => config.configs?.[ADDRESS]?.auth ?? undefined;

/** What k3s generated that does not follow from the registries.yaml it has now, in words (no secret). */
function generatedMismatch(config: RegistriesConfig, read: NodeRead, port: number | undefined): string | undefined {
  const hosts = ourHosts(port).filter((h) => config.mirrors?.[h] !== undefined || config.configs?.[h] !== undefined);
  const missing = hosts.filter((h) => read.hostsToml[h] === undefined);
  if (missing.length > 0) return `k3s generated no hosts.toml for ${missing.join(', ')}, which registries.yaml names`;
  const written = authOf(config);
  const generated = read.configToml === undefined ? undefined : configTomlAuth(read.configToml, ADDRESS);
  if (read.configToml !== undefined && (written?.username ?? undefined) !== generated?.username) return `config.toml's user for ${ADDRESS} is not registries.yaml's`;
  if (read.configToml !== undefined && (written?.password ?? undefined) !== generated?.password) return `config.toml's password for ${ADDRESS} is not registries.yaml's (neither is shown)`;
  return undefined;
}

export function registriesYamlFinding(node: string, read: NodeRead, facts: RegistriesFacts): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('registries.yaml', node, rest);
  const path = NODE_PATHS.registriesYaml;
  const recreate = `the node does not see ${facts.stateDir}/node (moved or re-created after the cluster was made): run k3s-devreg down, then up`;
  if (read.registriesYaml === undefined) return check({ status: 'fail', summary: `${path} is missing in the node: k3s runs without our registry settings`, fix: recreate });
  if (facts.stateText === undefined) return check({ status: 'fail', summary: `the state folder ${facts.stateDir} has no node/registries.yaml`, fix: UP });
  if (read.registriesYaml !== facts.stateText) {
    const [a, b] = [read.registriesYaml.split('\n'), facts.stateText.split('\n')];
    const line = a.findIndex((l, i) => l !== b[i]) + 1 || Math.min(a.length, b.length) + 1;
    return check({ status: 'fail', summary: `${path} in the node is not the state folder's node/registries.yaml`, evidence: `they differ from line ${line} (lines not shown: they may hold the password)`, fix: recreate });
  }
  let config: RegistriesConfig;
  try {
    config = parseRegistriesYaml(read.registriesYaml, path).value as RegistriesConfig;
  } catch (error) {
    return check({ status: 'fail', summary: (error as Error & { problem?: string }).problem ?? String(error), fix: UP });
  }
  const missing = ourHosts(facts.port).filter((h) => config.mirrors?.[h] === undefined);
  if (missing.length > 0) {
    return check({ status: 'fail', summary: `registries.yaml has no mirror for ${missing.join(', ')}${facts.port !== undefined && missing.includes(localHost(facts.port)) ? ': a pod cannot pull by the name docker pushes to' : ''}`, fix: UP });
  }
  const started = facts.startedAt ? new Date(facts.startedAt) : undefined;
  const changedAfterStart = !!(started && facts.stateMtime && !Number.isNaN(started.getTime()) && facts.stateMtime.getTime() > started.getTime());
  const when = `written ${facts.stateMtime?.toISOString() ?? '(unknown)'}, node started ${facts.startedAt ?? '(unknown)'}`;
  const mismatch = generatedMismatch(config, read, facts.port);
  if (mismatch) {
    return check({ status: 'fail', summary: `k3s on this node runs with an older registries.yaml (it reads the file only when it starts): ${mismatch}`, evidence: when, fix: restartFix(node) });
  }
  if (changedAfterStart) {
    return check({ status: 'warn', summary: 'registries.yaml changed after k3s started on this node; what k3s generated for our registry still matches it', evidence: when, fix: `restart the node to apply the rest: docker restart ${node}` });
  }
  return check({ status: 'ok', summary: `${path} is the state folder's (mirrors ${ourHosts(facts.port).join(', ')}), unchanged since k3s started`, evidence: when });
}

/** The CA files the hosts.toml of our hosts name, in order. */
export function caPathsOf(read: NodeRead): string[] {
  const paths = Object.values(read.hostsToml).flatMap((text) => (text ? tomlTables(text).flatMap((t) => t.values.ca ?? []) : []));
  return [...new Set(paths)];
}

/** The problems of one host's hosts.toml, in words; empty when it sends pulls to our registry with a CA. */
function hostsTomlProblems(host: string, text: string | undefined): string[] {
  if (text === undefined) {
    return host === ADDRESS
      ? [`no ${hostsTomlPath(host)}: containerd uses no CA for ${host}`]
      : [`no ${hostsTomlPath(host)}: containerd asks http://${host} inside the node itself, where nothing listens`];
  }
  const tables = tomlTables(text);
  const top = tables[0]!;
  const ours = host === ADDRESS && top.values.server?.[0] === REGISTRY_URL ? top : tables.find((t) => t.header === `host."${REGISTRY_URL}"`);
  const problems: string[] = [];
  if (!tables.some((t) => t.header === 'host' || t.header.startsWith('host.'))) {
    problems.push(`${host}: no [host] table, so containerd rejects the file (invalid \`host\` tree) and ignores its CA: the k3s ca_file regression of v1.29.3, v1.28.8, v1.27.12 and v1.26.15 (k3s issue 9839)`);
  }
  if (!ours) problems.push(`${host}: neither server = "${REGISTRY_URL}" nor a [host."${REGISTRY_URL}"] table`);
  else if (!ours.values.ca?.length) problems.push(`${host}: no ca for ${REGISTRY_URL} (registries.yaml's tls.ca_file did not reach it)`);
  return problems;
}

export function hostsTomlFinding(node: string, read: NodeRead, port: number | undefined): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('hosts.toml', node, rest);
  const problems = ourHosts(port).flatMap((h) => hostsTomlProblems(h, read.hostsToml[h]));
  if (problems.length > 0) {
    const regression = problems.some((p) => p.includes('k3s issue 9839'));
    return check({
      status: 'fail',
      summary: problems[0]!,
      ...(problems.length > 1 ? { evidence: problems.slice(1).join('; ') } : {}),
      fix: regression ? `recreate the cluster on a k3s release without it: k3s-devreg down, then k3s-devreg up --k3s-image ${DEFAULT_K3S_IMAGE}` : restartFix(node),
    });
  }
  return check({ status: 'ok', summary: `${ourHosts(port).join(' and ')} go to ${REGISTRY_URL} with the CA ${caPathsOf(read).join(', ')}` });
}

export function credentialsFinding(node: string, read: NodeRead, state: RegistryCredentials | undefined, stateDir: string): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('credentials', node, rest);
  const table = `registry.configs."${ADDRESS}".auth`;
  const fix = `${UP}: it writes registries.yaml and the registry's htpasswd from credentials.json and restarts nodes whose registries.yaml changed; if registries.yaml already matches, restart the node (docker restart ${node}) so k3s writes config.toml again`;
  if (read.configToml === undefined) return check({ status: 'fail', summary: `no ${NODE_PATHS.configToml} in the node (has k3s started?)`, fix: `read docker logs --tail 50 ${node}` });
  if (!state) return check({ status: 'fail', summary: `no credentials.json in ${stateDir}`, fix: UP });
  const auth = configTomlAuth(read.configToml, ADDRESS);
  if (!auth) return check({ status: 'fail', summary: `containerd's config.toml has no ${table}: the node pulls without credentials and the registry answers 401`, fix });
  let { username, password } = auth;
  if (auth.auth && (!username || !password)) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  if (!username || !password) return check({ status: 'fail', summary: `config.toml's ${table} lacks the ${username ? 'password' : 'username'}`, fix });
  if (username !== state.username) return check({ status: 'fail', summary: `config.toml's ${table} names the user ${username}, credentials.json ${state.username}`, fix });
  if (password !== state.password) return check({ status: 'fail', summary: `config.toml's password for ${username} is not credentials.json's (neither is shown): the registry answers 401`, fix });
  return check({ status: 'ok', summary: `config.toml holds credentials.json's user ${username} and password for ${ADDRESS}` });
}
