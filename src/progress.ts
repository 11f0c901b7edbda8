/**
 * Runs a command's steps as listr2 tasks: spinners on a terminal, plain lines otherwise (CI, pipes,
 * --verbose, where each command run is printed between the lines). Plain lines go through the
 * Io (redacted); steps stop between tasks once Ctrl-C aborted the signal.
 */
import { isCi, type Io } from './io.js';
import { Interrupted } from './steps/wait.js';

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
  run: (ctx: C, step: StepHandle) => Promise<void>;
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
  const useSpinners = interactive(options.io, options.verbose);
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

/**
 * Ctrl-C: the first press aborts the signal (steps stop, commands exit 130 and `up` resumes on the
 * next run); a second press exits at once. Returns a function that removes the handler.
 */
export function onInterrupt(controller: AbortController, io: Io): () => void {
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err('\nstopping after the current step (press Ctrl-C again to quit at once)...');
    controller.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Runs a command body with Ctrl-C handling: exit 130 and a hint that re-running resumes. */
export async function withInterrupt(io: Io, resume: string, body: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const release = onInterrupt(controller, io);
  try {
    return await body(controller.signal);
  } catch (error) {
    if (error instanceof Interrupted || controller.signal.aborted) {
      io.err(`interrupted: ${resume}`);
      return 130;
    }
    throw error;
  } finally {
    release();
  }
}
