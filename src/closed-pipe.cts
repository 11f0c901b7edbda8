/** Output into a closed pipe: CommonJS with no dependencies, as bin.cts is, so a plain --help loads only the two. */

/** The exit status a shell shows for a program that SIGPIPE ended (128 + 13). */
export const CLOSED_PIPE_EXIT = 141;

/**
 * Output into a closed pipe (`k3s-devreg status | head -1`) ends the process at once and quietly,
 * as SIGPIPE ends other programs; node ignores SIGPIPE and would throw EPIPE from the stream instead.
 * There is nobody left to tell, so no message; 141 is what `set -o pipefail` sees from any such program.
 */
export function stopQuietlyWhenOutputCloses(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(CLOSED_PIPE_EXIT);
      throw error;
    });
  }
}
