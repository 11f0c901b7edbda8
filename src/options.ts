/**
 * Turns flags, the team config file (k3s-devreg.yaml), prompts, the saved answers of the last run
 * (settings.json) and defaults into a validated spec. Precedence: flags > config file > prompt
 * answers > saved answers > defaults; the saved answers are also the questions' defaults.
 * Prompts only for a person at a TTY.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Ask, Question } from './ask.js';
import { cacheSpec } from './cache/spec.js';
import { DEFAULT_CONFIG_FILE, loadConfigFile, type TeamConfig } from './config-file.js';
import { UserError } from './errors.js';
import { canPrompt, readAllStdin, type Io } from './io.js';
import { refuseCaRegression } from './k3s-versions.js';
import { registerSecret } from './redact.js';
import * as spec from './spec.js';
import { defaultStateDir, stateRoot, statePath, validateStateDir } from './state/layout.js';
import { readSettings, type SavedSettings } from './state/settings.js';

export interface ResolvedOptions {
  spec: spec.ClusterSpec;
  /** Explicitly given; undefined keeps the stored password or generates one. */
  password?: string;
  registriesFile?: string;
  strict: boolean;
  configFile?: string;
}

/** The cluster options as given on the command line (commands/ translate parseArgs' values into this). */
export interface ClusterFlags {
  name?: string;
  agents?: string;
  username?: string;
  port?: string;
  passwordStdin?: boolean;
  registryImage?: string;
  hostsImage?: string;
  k3sImage?: string;
  registriesFile?: string;
  noStrict?: boolean;
  /** --no-cache / --cache: turn the pull-through cache off or back on (saved for the next run). */
  noCache?: boolean;
  cache?: boolean;
  /** --offline: see ClusterSpec.offline. */
  offline?: boolean;
  config?: string;
  dir?: string;
  yes?: boolean;
}

function toInt(value: string | number, flag: string, answered = false): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  const example = flag === '--port' ? spec.NODE_PORT : 1;
  if (Number.isNaN(n) && answered) throw new UserError(`not a whole number: ${JSON.stringify(value)}`, `answer with a whole number, e.g. ${example}`);
  if (Number.isNaN(n)) throw new UserError(`${flag} expects a whole number, got ${JSON.stringify(value)}`, `pass e.g. ${flag} ${example}`);
  return n;
}

/** One secret, one source: with both, which one wins would be a guess the user cannot see. */
function refusePasswordPair(flags: ClusterFlags, io: Io): void {
  if (flags.passwordStdin && io.env.K3S_DEVREG_PASSWORD !== undefined) {
    throw new UserError('both --password-stdin and K3S_DEVREG_PASSWORD give the registry password', 'use one of them: drop --password-stdin, or unset K3S_DEVREG_PASSWORD');
  }
}

async function explicitPassword(flags: ClusterFlags, io: Io): Promise<string | undefined> {
  refusePasswordPair(flags, io);
  let password: string | undefined;
  let source = 'K3S_DEVREG_PASSWORD';
  if (flags.passwordStdin) {
    if (io.stdin.isTTY) throw new UserError('--password-stdin needs the password piped in', "use: printf '%s' \"$PASS\" | k3s-devreg ... --password-stdin");
    password = (await readAllStdin(io)).replace(/\r?\n$/, '');
    source = '--password-stdin';
  } else if (io.env.K3S_DEVREG_PASSWORD !== undefined) {
    password = io.env.K3S_DEVREG_PASSWORD;
  }
  if (password === undefined) return undefined;
  registerSecret(password);
  return spec.validatePassword(password, source);
}

/**
 * Flags whose empty value would silently mean "not given" (`--dir ""` was the default folder):
 * refused instead. --name, --username and the images are refused by their own checks.
 */
const PATH_FLAGS = [
  ['dir', 'dir'],
  ['config', 'config'],
  ['registriesFile', 'registries-file'],
] as const;
function refuseEmptyFlags(flags: ClusterFlags): void {
  for (const [key, flag] of PATH_FLAGS) {
    if (flags[key] === '') throw new UserError(`--${flag} is empty`, `give --${flag} a path, or leave it out for the default`);
  }
}

/**
 * The checks of the answers a flag or a prompt can give (the team file and settings.json check their
 * own); `answered`: typed at a prompt, where the fix says what to answer rather than which flag to pass.
 */
const CHECKS: Record<string, (value: string | number, answered?: boolean) => unknown> = {
  name: (v, answered) => spec.validateClusterName(String(v), answered ? spec.ANSWER : undefined),
  agents: (v, answered) => spec.validateAgents(toInt(v, '--agents', answered), answered ? spec.ANSWER : undefined),
  username: (v, answered) => spec.validateUsername(String(v), answered ? spec.ANSWER : undefined),
  port: (v, answered) => spec.validateHostPort(toInt(v, '--port', answered), answered ? spec.ANSWER : undefined),
};
const SPEC_KEYS = ['name', 'agents', 'username', 'port'] as const;
type SpecKey = (typeof SPEC_KEYS)[number];

const givenFlags = (flags: ClusterFlags): Record<string, string | undefined> => ({
  name: flags.name,
  agents: flags.agents,
  username: flags.username,
  port: flags.port,
});

const nameQuestion = (): Question => ({ name: 'name', message: 'Cluster name', default: spec.DEFAULT_CLUSTER_NAME, validate: validator(CHECKS.name!) });

/** The questions after the name; their defaults are the answers saved in that cluster's folder. */
function questionsFor(missing: Set<string>, saved: SavedSettings, askPassword: boolean): Question[] {
  const q: Question[] = [];
  const wants = (key: string) => missing.has(key);
  if (wants('agents')) q.push({ name: 'agents', message: 'Number of agent nodes', default: String(saved.agents ?? spec.DEFAULT_AGENTS), validate: validator(CHECKS.agents!) });
  if (wants('username')) q.push({ name: 'username', message: 'Registry username', default: saved.username ?? spec.DEFAULT_USERNAME, validate: validator(CHECKS.username!) });
  if (askPassword) q.push({ name: 'password', message: 'Registry password (empty: keep the saved one or generate a strong one)', default: '', secret: true, validate: (v) => (v === '' ? true : validator((p) => spec.validatePassword(p, spec.ANSWER))(v)) });
  if (wants('port')) q.push({ name: 'port', message: 'Registry port on this machine', default: String(saved.port ?? spec.NODE_PORT), validate: validator(CHECKS.port!) });
  return q;
}

function validator(check: (value: string, answered: boolean) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      check(value, true);
      return true;
    } catch (error) {
      return error instanceof UserError ? error.message : String(error);
    }
  };
}

function checkGiven(flags: Record<string, string | undefined>): void {
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = flags[key];
    if (value !== undefined) check(value);
  }
}

type Images = Pick<spec.ClusterSpec, 'registryImage' | 'hostsImage' | 'k3sImage'>;
/** The spec's key (and the flag's), the flag as typed, the default. */
const IMAGES: [keyof Images, string, string][] = [
  ['registryImage', 'registry-image', spec.DEFAULT_REGISTRY_IMAGE],
  ['hostsImage', 'hosts-image', spec.DEFAULT_HOSTS_IMAGE],
  ['k3sImage', 'k3s-image', spec.DEFAULT_K3S_IMAGE],
];

/**
 * The images, from flags, then the team file, then the saved answers, then the pinned defaults
 * (the team file and settings.json checked theirs when read); a k3s that cannot trust our CA is refused.
 */
function resolveImages(flags: ClusterFlags, team: TeamConfig, configFile: string | undefined, saved: SavedSettings, savedFile?: string): Images {
  const images = {} as Images;
  const sources = {} as Record<keyof Images, string>;
  for (const [key, flag, fallback] of IMAGES) {
    const given = flags[key];
    if (given !== undefined) [images[key], sources[key]] = [spec.validateImage(given, `--${flag}`), `--${flag}`];
    else if (team[key] !== undefined) [images[key], sources[key]] = [team[key], `${configFile ?? DEFAULT_CONFIG_FILE} (${key})`];
    else if (saved[key] !== undefined) [images[key], sources[key]] = [saved[key], `${savedFile ?? 'settings.json'} (${key})`];
    else [images[key], sources[key]] = [fallback, 'the default'];
  }
  refuseCaRegression(images.k3sImage, sources.k3sImage, `use a fixed k3s release, e.g. --k3s-image ${spec.DEFAULT_K3S_IMAGE} (the tested one)`);
  return images;
}

/** The team file as loadConfigFile read it: its fields, and where it is (none found: no path). */
export type TeamFile = Awaited<ReturnType<typeof loadConfigFile>>;

/**
 * Checks what flags, the environment and the team file say, without asking anything: `up` runs it
 * before the tool checks and the questions, so a typo is the first thing reported, not the last.
 * Returns the team file it read, for resolveClusterOptions to use rather than read and check again.
 */
export async function loadGivenOptions(flags: ClusterFlags, io: Io): Promise<TeamFile> {
  refuseFlagConflicts(flags);
  refusePasswordPair(flags, io);
  stateRoot(io.env);
  const teamFile = await loadConfigFile(flags.config, io.cwd);
  const { config: team, path } = teamFile;
  checkGiven(givenFlags(flags));
  resolveImages(flags, team, path, {});
  await findRegistriesFile(flags, team, path, io.cwd);
  return teamFile;
}

/** `teamFile`: what loadGivenOptions returned for these same options; read here when not given. */
export async function resolveClusterOptions(flags: ClusterFlags, io: Io, ask?: Ask, teamFile?: TeamFile): Promise<ResolvedOptions> {
  refuseFlagConflicts(flags);
  const { config: team, path: configFile } = teamFile ?? (await loadConfigFile(flags.config, io.cwd));
  let password = await explicitPassword(flags, io);
  const specFlags = givenFlags(flags);
  const prompting = ask !== undefined && canPrompt(io, flags.yes === true);
  // A bad flag is reported before the questions, not after them.
  checkGiven(specFlags);
  // The team config answers a question as surely as a flag does.
  const given = (key: SpecKey) => specFlags[key] ?? (team[key] as string | number | undefined);

  // The name picks the state folder, so it is settled first; that folder's saved answers fill in the rest.
  let name = given('name');
  if (name === undefined && prompting) name = (await ask([nameQuestion()])).name;
  name = spec.validateClusterName(String(name ?? spec.DEFAULT_CLUSTER_NAME));
  const { dir } = flags;
  const stateDir = dir ? validateStateDir(resolve(io.cwd, dir), '--dir') : validateStateDir(defaultStateDir(name, io.env), io.env.K3S_DEVREG_HOME ? 'K3S_DEVREG_HOME' : 'home');
  const saved = await readSettings(stateDir);

  let answers: Record<string, string> = {};
  if (prompting) {
    const missing = new Set(SPEC_KEYS.filter((k) => k !== 'name' && given(k) === undefined));
    const questions = questionsFor(missing, saved, password === undefined);
    if (questions.length > 0) answers = await ask(questions);
    if (answers.password) password = spec.validatePassword(answers.password);
    registerSecret(password);
  }
  const pick = (key: Exclude<SpecKey, 'name'>) => given(key) ?? answers[key] ?? saved[key];

  const result: ResolvedOptions = {
    spec: {
      name,
      agents: spec.validateAgents(toInt(pick('agents') ?? spec.DEFAULT_AGENTS, '--agents')),
      hostPort: spec.validateHostPort(toInt(pick('port') ?? spec.NODE_PORT, '--port')),
      username: spec.validateUsername(String(pick('username') ?? spec.DEFAULT_USERNAME)),
      ...resolveImages(flags, team, configFile, saved, statePath(stateDir, 'settings')),
      stateDir,
      ...(flags.offline || team.offline ? { offline: true as const } : cacheOf(flags, team, saved)),
    },
    strict: flags.noStrict === true ? false : team.strict ?? true,
  };
  if (password !== undefined) result.password = password;
  const registriesFile = await findRegistriesFile(flags, team, configFile, io.cwd);
  if (registriesFile) result.registriesFile = registriesFile;
  if (configFile) result.configFile = configFile;
  return result;
}

/** Flag errors, reported before anything is read or asked (render resolves without loadGivenOptions). */
function refuseFlagConflicts(flags: ClusterFlags): void {
  refuseEmptyFlags(flags);
  if (flags.noCache && flags.cache) throw new UserError('both --cache and --no-cache are given', 'pass one of them');
}

/**
 * --no-cache/--cache, else the team file's cache, else the last run's --no-cache; on by default.
 * Only a --no-cache is remembered (cacheOffSaved): the team file's `cache: false` stays the team
 * file's, so removing the line turns the cache back on.
 */
function cacheOf(flags: ClusterFlags, team: TeamConfig, saved: SavedSettings): Pick<spec.ClusterSpec, 'cache' | 'cacheOffSaved'> {
  if (flags.noCache) return { cacheOffSaved: true };
  if (flags.cache) return { cache: cacheSpec() };
  if (team.cache !== undefined) return team.cache === false ? {} : { cache: team.cache };
  return saved.cache === false ? { cacheOffSaved: true } : { cache: cacheSpec() };
}

/**
 * --registries-file (from the current folder), else the team file's registriesFile (from the team
 * file's folder). A missing one is reported here, naming where the path came from.
 */
async function findRegistriesFile(flags: ClusterFlags, team: TeamConfig, configFile: string | undefined, cwd: string): Promise<string | undefined> {
  const flag = flags.registriesFile;
  const [path, source] =
    flag !== undefined ? [resolve(cwd, flag), '--registries-file'] : team.registriesFile && configFile ? [resolve(dirname(configFile), team.registriesFile), `registriesFile in ${configFile}`] : [];
  if (path === undefined) return undefined;
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const fix = flag !== undefined ? 'check the path (relative to the current folder)' : `check registriesFile in ${configFile} (relative to that file's folder)`;
    throw new UserError(`the registries file ${path} (from ${source}) does not exist`, fix);
  }
  return path;
}
