import { describe, expect, it, vi } from 'vitest';
import { Interrupted } from '../../src/steps/wait.js';

type Prompt = (questions: unknown[]) => Promise<Record<string, unknown>>;
const state: { prompt: Prompt; seen: unknown[] } = { prompt: async () => ({}), seen: [] };
vi.mock('inquirer', () => ({
  default: {
    prompt: (questions: unknown[]) => {
      state.seen = questions;
      return state.prompt(questions);
    },
  },
}));
const { ask } = await import('../../src/prompt.js');

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

  it('Ctrl-C in a prompt becomes Interrupted (exit 130)', async () => {
    state.prompt = () => Promise.reject(Object.assign(new Error('User force closed the prompt'), { name: 'ExitPromptError' }));
    await expect(ask([{ name: 'x', message: 'x', default: '' }])).rejects.toBeInstanceOf(Interrupted);
  });
});
