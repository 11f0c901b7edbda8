/**
 * The one injected prompt function and its questions: options, steps and the registries commands
 * ask through it, and prompt.ts implements it with inquirer. Also the one yes/no question.
 */
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

/** A yes/no question whose default is no; only y or yes (any case) confirms. */
export async function confirm(ask: Ask, question: string): Promise<boolean> {
  const answers = await ask([
    { name: 'confirm', message: `${question} (yes/no)`, default: 'no', validate: (v) => (/^(y|yes|n|no)$/i.test(v.trim()) ? true : 'answer yes or no') },
  ]);
  return /^y(es)?$/i.test((answers.confirm ?? '').trim());
}
