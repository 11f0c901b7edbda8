/**
 * The one injected prompt function and its questions, as types: options, steps and the registries
 * commands ask through it, and prompt.ts implements it with inquirer.
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
