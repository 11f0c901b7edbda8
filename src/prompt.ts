/**
 * The inquirer implementation of Ask, the one prompt function commands receive. inquirer is
 * imported only when a question is actually asked, so non-interactive runs never load it.
 * Ctrl-C during a question ends the command like Ctrl-C anywhere else: Interrupted, exit 130.
 */
import { Interrupted } from './errors.js';
import type { Ask, Question } from './ask.js';

// @inquirer/core 12: Ctrl-C typed at the prompt (raw mode: a key, not a signal) rejects with
// ExitPromptError; an aborted `signal` rejects with AbortPromptError.
const INTERRUPTS = new Set(['ExitPromptError', 'AbortPromptError']);

export const ask: Ask = async (questions: Question[]) => {
  const { default: inquirer } = await import('inquirer');
  // A real SIGINT (kill -INT, or a terminal not in raw mode) reaches inquirer only through
  // signal-exit, which stays silent once cli.ts listens for SIGINT: so the prompt listens too.
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const answers = await inquirer.createPromptModule({ signal: controller.signal })(
      questions.map((q) => ({
        type: q.secret ? ('password' as const) : ('input' as const),
        name: q.name,
        message: q.message,
        ...(q.secret ? { mask: '*' } : { default: q.default }),
        ...(q.validate ? { validate: q.validate } : {}),
      })),
    );
    const result: Record<string, string> = {};
    for (const q of questions) {
      const value = (answers as Record<string, unknown>)[q.name];
      result[q.name] = typeof value === 'string' && value !== '' ? value : q.default;
    }
    return result;
  } catch (error) {
    if (INTERRUPTS.has((error as Error).name)) throw new Interrupted();
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
};
