import { describe, expect, it, vi } from 'vitest';
import { Interrupted } from '../../src/errors.js';

type Prompt = (questions: unknown[], signal: AbortSignal) => Promise<Record<string, unknown>>;
const state: { prompt: Prompt; seen: unknown[] } = { prompt: async () => ({}), seen: [] };
vi.mock('inquirer', () => ({
  default: {
    createPromptModule: (context: { signal: AbortSignal }) => (questions: unknown[]) => {
      state.seen = questions;
      return state.prompt(questions, context.signal);
    },
  },
}));
const { ask } = await import('../../src/prompt.js');

/** As @inquirer/core 12 names them (node_modules/@inquirer/core/dist/lib/errors.js). */
const promptError = (name: string) => Object.assign(new Error('User force closed the prompt with SIGINT'), { name });

describe('ask (inquirer)', () => {
  it('asks text questions with defaults and secret ones masked without a default, keyed by name', async () => {
    state.prompt = async () => ({ name: 'team', password: '' });
    const validate = (v: string) => (v ? true : 'empty');
    const answers = await ask([
      { name: 'name', message: 'Cluster name', default: 'devreg', validate },
      { name: 'password', message: 'Password', default: '', secret: true },
    ]);
    expect(state.seen).toEqual([
      { type: 'input', name: 'name', message: 'Cluster name', default: 'devreg', validate },
      { type: 'password', name: 'password', message: 'Password', mask: '*' },
    ]);
    expect(answers).toEqual({ name: 'team', password: '' });
  });

  it('Ctrl-C typed at a prompt becomes Interrupted (exit 130)', async () => {
    state.prompt = () => Promise.reject(promptError('ExitPromptError'));
    await expect(ask([{ name: 'x', message: 'x', default: '' }])).rejects.toBeInstanceOf(Interrupted);
  });

  it('a SIGINT signal during a prompt aborts it (Interrupted), and the prompt stops listening afterwards', async () => {
    const listeners = process.listenerCount('SIGINT');
    state.prompt = (_questions, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(promptError('AbortPromptError')));
        process.emit('SIGINT');
      });
    await expect(ask([{ name: 'x', message: 'x', default: '' }])).rejects.toBeInstanceOf(Interrupted);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('other prompt failures stay what they are', async () => {
    state.prompt = () => Promise.reject(new TypeError('boom'));
    await expect(ask([{ name: 'x', message: 'x', default: '' }])).rejects.toThrow(TypeError);
  });
});
