/**
 * The inquirer implementation of Ask, the one prompt function commands receive. inquirer is
 * imported only when a question is actually asked, so non-interactive runs never load it.
 * Ctrl-C during a question ends the command like Ctrl-C anywhere else (exit 130).
 */
import type { Ask, Question } from './options.js';
import { Interrupted } from './steps/wait.js';

export const ask: Ask = async (questions: Question[]) => {
  const { default: inquirer } = await import('inquirer');
  try {
    const answers = await inquirer.prompt(
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
    if ((error as Error).name === 'ExitPromptError') throw new Interrupted();
    throw error;
  }
};
