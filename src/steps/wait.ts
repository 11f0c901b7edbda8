/**
 * Bounded waits. Every wait has a deadline and says, when it runs out, what did not become ready
 * and what was last seen. Time is injected (Clock) so tests do not sleep; Ctrl-C (an aborted
 * signal) ends a wait at once with Interrupted.
 */
import { Interrupted, ToolError } from '../errors.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted();
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new Interrupted());
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Interrupted());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export type Probe<T> = () => Promise<{ ready: true; value: T } | { ready: false; seen: string; fatal?: boolean }>;

export interface WaitRequest<T> {
  /** What we wait for, as the subject of "... did not become ready", e.g. "the hosts entry on every node". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  /** The sentence the user acts on when the wait runs out. */
  /** The fix; a function when it depends on what the probe saw (e.g. which node failed). */
  fix: string | (() => string);
  probe: Probe<T>;
  clock: Clock;
  signal?: AbortSignal;
}

/** Polls until the probe is ready, a probe says the state is fatal, or the deadline passes. */
export async function waitFor<T>(request: WaitRequest<T>): Promise<T> {
  const deadline = request.clock.now() + request.timeoutMs;
  for (;;) {
    throwIfAborted(request.signal);
    const result = await request.probe();
    if (result.ready) return result.value;
    const fix = () => (typeof request.fix === 'string' ? request.fix : request.fix());
    if (result.fatal) throw new ToolError(`${request.what} failed: ${result.seen}`, fix());
    if (request.clock.now() >= deadline) {
      throw new ToolError(
        `${request.what} did not become ready within ${Math.round(request.timeoutMs / 1000)}s (last seen: ${result.seen})`,
        fix(),
      );
    }
    await request.clock.sleep(request.intervalMs, request.signal);
  }
}
