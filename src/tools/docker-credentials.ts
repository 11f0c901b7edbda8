/**
 * docker's credential helpers (`docker-credential-<helper>`, named by credsStore/credHelpers in
 * docker's config.json). Only `list` is called: it prints server -> username, never a secret.
 */
import { ensureOk, parseJson, type ToolInfo } from './failure.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;

export const credentialHelperProgram = (helper: string): string => `docker-credential-${helper}`;

/** The servers the helper holds a login for, with their usernames. */
export async function credentialHelperLogins(run: Runner, helper: string): Promise<Record<string, string>> {
  const program = credentialHelperProgram(helper);
  const tool: ToolInfo = { name: program, install: `install ${program}, or remove "credsStore"/"credHelpers" naming ${helper} from docker's config.json` };
  const action = 'list the logins it holds';
  const result = await run(program, ['list'], { timeoutMs: QUICK_MS });
  // A locked keychain or a helper without a backend fails here, not only a missing program.
  ensureOk(tool, action, result, `check that \`${program} list\` works (a locked keychain has to be unlocked first)`, QUICK_MS);
  const listed = parseJson<unknown>(tool, action, result.stdout.trim() || '{}');
  if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) return {};
  return Object.fromEntries(Object.entries(listed).filter(([, user]) => typeof user === 'string')) as Record<string, string>;
}
