/**
 * Typed errors, handled in one place (cli.ts). A UserError is something the user can fix
 * (bad input, missing prerequisite): exit 2. A ToolError is an external command that failed: exit 1.
 * Both carry one sentence naming the problem and one naming the fix. Interrupted is Ctrl-C: exit 130,
 * with the command's resume hint only when it had begun changing something.
 */
export class UserError extends Error {
  readonly exitCode: number = 2;
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}: ${fix}`);
    this.name = 'UserError';
  }
}

export class ToolError extends Error {
  readonly exitCode: number = 1;
  constructor(
    readonly problem: string,
    readonly fix: string,
    readonly detail = '',
  ) {
    super(`${problem}: ${fix}`);
    this.name = 'ToolError';
  }
}

/** Thrown when the user pressed Ctrl-C: at a prompt, in a wait, or between steps. */
export class Interrupted extends Error {
  readonly exitCode = 130;
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

export function isKnownError(error: unknown): error is UserError | ToolError {
  return error instanceof UserError || error instanceof ToolError;
}
