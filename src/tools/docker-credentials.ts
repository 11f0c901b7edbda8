/**
 * docker's credential helpers (`docker-credential-<helper>`, named by credsStore/credHelpers in
 * docker's config.json). `list` prints server -> username; `get` (the server URL on stdin) prints
 * the secret too: it is registered with redact() the moment it is parsed and only ever compared.
 */
import { ToolError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { ensureOk, parseJson, type ToolInfo } from './failure.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;

export const credentialHelperProgram = (helper: string): string => `docker-credential-${helper}`;

const helperTool = (helper: string): ToolInfo => {
  const program = credentialHelperProgram(helper);
  return { name: program, install: `install ${program}, or remove "credsStore"/"credHelpers" naming ${helper} from docker's config.json` };
};

/** The servers the helper holds a login for, with their usernames. */
export async function credentialHelperLogins(run: Runner, helper: string): Promise<Record<string, string>> {
  const program = credentialHelperProgram(helper);
  const tool = helperTool(helper);
  const action = 'list the logins it holds';
  const result = await run(program, ['list'], { timeoutMs: QUICK_MS });
  // A locked keychain or a helper without a backend fails here, not only a missing program.
  ensureOk(tool, action, result, `check that \`${program} list\` works (a locked keychain has to be unlocked first)`, QUICK_MS);
  const listed = parseJson<unknown>(tool, action, result.stdout.trim() || '{}');
  if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) return {};
  return Object.fromEntries(Object.entries(listed).filter(([, user]) => typeof user === 'string')) as Record<string, string>;
}

/** The login the helper holds for `server` (the key as `list` named it): username and secret, the secret registered as one. */
export async function credentialHelperSecret(run: Runner, helper: string, server: string): Promise<{ username: string; secret: string }> {
  const program = credentialHelperProgram(helper);
  const action = `get the login it holds for ${server}`;
  const fix = `check that \`echo ${server} | ${program} get\` works (a locked keychain has to be unlocked first)`;
  const result = await run(program, ['get'], { input: server, timeoutMs: QUICK_MS });
  // Its stdout holds the secret: parsed here and never passed on (not to parseJson's detail, not to an error).
  let answer: unknown;
  try {
    answer = result.exitCode === 0 ? JSON.parse(result.stdout) : undefined;
  } catch {
    answer = undefined;
  }
  const { Username, Secret } = (typeof answer === 'object' && answer !== null ? answer : {}) as { Username?: unknown; Secret?: unknown };
  if (typeof Secret === 'string') registerSecret(Secret);
  // A failed get prints why ("credentials not found in native keychain"); a successful one's stdout is never quoted.
  ensureOk(helperTool(helper), action, result.exitCode === 0 ? { ...result, stdout: '' } : result, fix, QUICK_MS);
  if (typeof Secret !== 'string' || typeof Username !== 'string') throw new ToolError(`${program} gave no {Username, Secret} when asked to ${action}`, fix);
  return { username: Username, secret: Secret };
}
