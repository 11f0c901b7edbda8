/**
 * Turns flags, the team config file (k3s-devreg.yaml), prompts and defaults into a validated spec.
 * Precedence: flags > config file > prompt answers > defaults. Prompts only for a person at a TTY.
 */
import { dirname, resolve } from 'node:path';
import type { ParsedOptions } from './command-table.js';
import { DEFAULT_CONFIG_FILE, loadConfigFile, type TeamConfig } from './config-file.js';
import { UserError } from './errors.js';
import { canPrompt, readAllStdin, type Io } from './io.js';
import { refuseCaRegression } from './k3s-versions.js';
import { registerSecret } from './redact.js';
import * as spec from './spec.js';
import { defaultStateDir, validateStateDir } from './state/layout.js';

export interface Question {
  name: string;
  message: string;
  default: string;
  /** Input is hidden and never echoed. */
  secret?: boolean;
  validate?: (value: string) => string | true;
}
/** The one injected prompt function; answers are keyed by question name. */
export type Ask = (questions: Question[]) => Promise<Record<string, string>>;

export interface ResolvedOptions {
  spec: spec.ClusterSpec;
  /** Explicitly given; undefined keeps the stored password or generates one. */
  password?: string;
  registriesFile?: string;
  strict: boolean;
  configFile?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function toInt(value: string | number, flag: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (Number.isNaN(n)) throw new UserError(`${flag} expects a whole number, got ${JSON.stringify(value)}`, `pass e.g. ${flag} ${flag === '--port' ? spec.NODE_PORT : 1}`);
  return n;
}

async function explicitPassword(parsed: ParsedOptions, io: Io): Promise<string | undefined> {
  let password: string | undefined;
  if (parsed['password-stdin']) {
    if (io.stdin.isTTY) throw new UserError('--password-stdin needs the password piped in', "use: printf '%s' \"$PASS\" | k3s-devreg ... --password-stdin");
    password = (await readAllStdin(io)).replace(/\r?\n$/, '');
  } else if (io.env.K3S_DEVREG_PASSWORD !== undefined) {
    password = io.env.K3S_DEVREG_PASSWORD;
  }
  if (password === undefined) return undefined;
  registerSecret(password);
  return spec.validatePassword(password);
}

/** The checks of the answers a flag, the team file or a prompt can give. */
const CHECKS: Record<string, (value: string | number) => unknown> = {
  name: (v) => spec.validateClusterName(String(v)),
  agents: (v) => spec.validateAgents(toInt(v, '--agents')),
  username: (v) => spec.validateUsername(String(v)),
  port: (v) => spec.validateHostPort(toInt(v, '--port')),
};

const givenFlags = (parsed: ParsedOptions): Record<string, string | undefined> => ({
  name: str(parsed.name),
  agents: str(parsed.agents),
  username: str(parsed.username),
  port: str(parsed.port),
});

function questionsFor(missing: Set<string>, team: TeamConfig, askPassword: boolean): Question[] {
  const q: Question[] = [];
  const wants = (key: string) => missing.has(key);
  if (wants('name')) q.push({ name: 'name', message: 'Cluster name', default: team.name ?? spec.DEFAULT_CLUSTER_NAME, validate: validator(CHECKS.name!) });
  if (wants('agents')) q.push({ name: 'agents', message: 'Number of agent nodes', default: String(team.agents ?? spec.DEFAULT_AGENTS), validate: validator(CHECKS.agents!) });
  if (wants('username')) q.push({ name: 'username', message: 'Registry username', default: team.username ?? spec.DEFAULT_USERNAME, validate: validator(CHECKS.username!) });
  if (askPassword) q.push({ name: 'password', message: 'Registry password (empty: keep the saved one or generate a strong one)', default: '', secret: true, validate: (v) => (v === '' ? true : validator(spec.validatePassword)(v)) });
  if (wants('port')) q.push({ name: 'port', message: 'Registry port on this machine', default: String(team.port ?? spec.NODE_PORT), validate: validator(CHECKS.port!) });
  return q;
}

function validator(check: (value: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      check(value);
      return true;
    } catch (error) {
      return error instanceof UserError ? error.message : String(error);
    }
  };
}

function checkGiven(flags: Record<string, string | undefined>, team: TeamConfig): void {
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = flags[key] ?? (team[key as keyof TeamConfig] as string | number | undefined);
    if (value !== undefined) check(value);
  }
}

/** The images, from flags, then the team file, then the pinned defaults; a k3s that cannot trust our CA is refused. */
function resolveImages(parsed: ParsedOptions, team: TeamConfig, configFile: string | undefined): Pick<spec.ClusterSpec, 'registryImage' | 'hostsImage' | 'k3sImage'> {
  const k3sFlag = str(parsed['k3s-image']);
  const k3sImage = spec.validateImage(k3sFlag ?? team.k3sImage ?? spec.DEFAULT_K3S_IMAGE, '--k3s-image');
  const source = k3sFlag ? '--k3s-image' : team.k3sImage ? `${configFile ?? DEFAULT_CONFIG_FILE} (k3sImage)` : 'the default';
  refuseCaRegression(k3sImage, source, `use a fixed k3s release, e.g. --k3s-image ${spec.DEFAULT_K3S_IMAGE} (the tested one)`);
  return {
    registryImage: spec.validateImage(str(parsed['registry-image']) ?? team.registryImage ?? spec.DEFAULT_REGISTRY_IMAGE, '--registry-image'),
    hostsImage: spec.validateImage(str(parsed['hosts-image']) ?? team.hostsImage ?? spec.DEFAULT_HOSTS_IMAGE, '--hosts-image'),
    k3sImage,
  };
}

/**
 * Checks what flags and the team file say, without asking anything: `up` runs it before the tool
 * checks and the questions, so a typo is the first thing reported, not the last.
 */
export async function checkGivenOptions(parsed: ParsedOptions, io: Io): Promise<void> {
  const { config: team, path } = await loadConfigFile(str(parsed.config), io.cwd);
  checkGiven(givenFlags(parsed), team);
  resolveImages(parsed, team, path);
}

export async function resolveClusterOptions(parsed: ParsedOptions, io: Io, ask?: Ask): Promise<ResolvedOptions> {
  const { config: team, path: configFile } = await loadConfigFile(str(parsed.config), io.cwd);
  let password = await explicitPassword(parsed, io);
  const flags = givenFlags(parsed);
  let answers: Record<string, string> = {};
  if (ask && canPrompt(io, parsed.yes === true)) {
    // A bad flag is reported before the questions, not after them.
    checkGiven(flags, team);
    // The team config answers a question as surely as a flag does.
    const missing = new Set(Object.keys(flags).filter((k) => flags[k] === undefined && team[k as keyof TeamConfig] === undefined));
    const questions = questionsFor(missing, team, password === undefined);
    if (questions.length > 0) answers = await ask(questions);
    if (answers.password) password = spec.validatePassword(answers.password);
    registerSecret(password);
  }
  const pick = (key: string) => flags[key] ?? (team[key as keyof TeamConfig] as string | number | undefined) ?? answers[key];

  const name = spec.validateClusterName(String(pick('name') ?? spec.DEFAULT_CLUSTER_NAME));
  const dir = str(parsed.dir);
  const result: ResolvedOptions = {
    spec: {
      name,
      agents: spec.validateAgents(toInt(pick('agents') ?? spec.DEFAULT_AGENTS, '--agents')),
      hostPort: spec.validateHostPort(toInt(pick('port') ?? spec.NODE_PORT, '--port')),
      username: spec.validateUsername(String(pick('username') ?? spec.DEFAULT_USERNAME)),
      ...resolveImages(parsed, team, configFile),
      stateDir: validateStateDir(dir ? resolve(io.cwd, dir) : defaultStateDir(name, io.env)),
    },
    strict: parsed['no-strict'] === true ? false : team.strict ?? true,
  };
  if (password !== undefined) result.password = password;
  const registriesFile = str(parsed['registries-file']) ?? (team.registriesFile && configFile ? resolve(dirname(configFile), team.registriesFile) : undefined);
  if (registriesFile) result.registriesFile = resolve(io.cwd, registriesFile);
  if (configFile) result.configFile = configFile;
  return result;
}
