/**
 * Runs a command's steps as listr2 tasks: spinners on a terminal, plain lines otherwise (CI, pipes,
 * --verbose, where each command run is printed between the lines). Plain lines go through the
 * Io (redacted); steps stop between tasks once Ctrl-C aborted the signal, and each step that is not
 * read-only marks the run as changing, so that cli.ts adds the resume hint only then.
 */
import { Interrupted } from './errors.js';
import { isCi, type Io } from './io.js';

export interface StepHandle {
  /** Replace the task's title, e.g. with what the step found or did. */
  title(text: string): void;
  /** Mark the task skipped, with the reason shown. */
  skip(reason: string): void;
  /** A line of detail under the task. */
  note(text: string): void;
}

export interface Step<C> {
  title: string;
  /** Only looks (checks tools, reads the cluster): Ctrl-C during it has nothing to resume. */
  readOnly?: boolean;
  run: (ctx: C, step: StepHandle) => Promise<void>;
}

// Keyed by the run's abort signal, which every command already hands to runSteps.
const changing = new WeakSet<AbortSignal>();

/** The run under this signal has begun changing things (files, containers, the cluster). */
export function markChanging(signal: AbortSignal | undefined): void {
  if (signal) changing.add(signal);
}

export function hasChanged(signal: AbortSignal): boolean {
  return changing.has(signal);
}

export interface ProgressOptions {
  io: Io;
  verbose?: boolean;
  signal?: AbortSignal;
}

/** Spinners only for a person at a terminal, outside CI, without --verbose. */
export function interactive(io: Io, verbose = false): boolean {
  return io.stdoutIsTTY && !verbose && !isCi(io.env) && io.env.TERM !== 'dumb';
}

export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, options: ProgressOptions): Promise<void> {
  const { Listr, ListrLogger, ProcessOutput, PRESET_TIMER, createWritable } = await import('listr2');
  // Spinners are drawn on stderr: into a file (`up 2>log`) they would be cursor codes, not lines.
  const useSpinners = interactive(options.io, options.verbose) && process.stderr.isTTY === true;
  let pending = '';
  const toIo = createWritable((chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) options.io.err(line);
  });
  let failure: { error: unknown } | undefined;
  const processOutput = useSpinners ? new ProcessOutput(process.stderr, process.stderr) : new ProcessOutput(toIo as never, toIo as never);
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      // Notes (a registries.yaml diff, warnings) stay on screen after the task ends.
      rendererOptions: { persistentOutput: true, outputBar: Infinity },
      task: async (_ctx: C, task: { title: string; output: string; skip: (message?: string) => void }) => {
        try {
          if (options.signal?.aborted) throw new Interrupted();
          if (!step.readOnly) markChanging(options.signal);
          await step.run(ctx, {
            title: (text) => {
              task.title = text;
            },
            skip: (reason) => task.skip(reason),
            note: (text) => {
              task.output = text;
            },
          });
        } catch (error) {
          // listr2 shows the task as failed; the error itself is printed once, by cli.ts, with its fix.
          failure = { error };
          throw new Error('');
        }
      },
    })),
    {
      renderer: useSpinners ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: {
        timer: PRESET_TIMER,
        logger: new ListrLogger({ processOutput, useIcons: true }),
        collapseSkips: false,
      } as never,
      fallbackRendererOptions: { timer: PRESET_TIMER, logger: new ListrLogger({ processOutput, useIcons: true }) } as never,
    },
  );
  try {
    await list.run();
  } catch (error) {
    throw failure ? failure.error : error;
  } finally {
    if (pending) options.io.err(pending);
  }
}
