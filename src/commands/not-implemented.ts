import type { CommandMain } from '../command-table.js';
import { UserError } from '../errors.js';

export function notImplemented(name: string): CommandMain {
  return async () => {
    throw new UserError(`'${name}' is not yet implemented in this version`, 'use k3s-devreg render for now');
  };
}
