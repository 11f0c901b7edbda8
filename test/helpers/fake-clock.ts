/** A Clock whose sleep only moves time forward: waits with deadlines run instantly in tests. */
import type { Clock } from '../../src/steps/wait.js';

export function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}
