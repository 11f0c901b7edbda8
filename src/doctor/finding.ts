/**
 * What `doctor` reports: one finding per check and place, each saying what is wrong (or what was
 * found right), the evidence it rests on, and the fix. Pure data: the checks that make findings
 * live in doctor/ (analysis of what was read) and steps/doctor-*.ts (the reading).
 */

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  /** The check, short and stable for scripts: 'hosts entry', 'registries.yaml', 'hosts.toml', 'CA', 'credentials', 'certificate', 'clock', 'pull errors', 'registry pod', 'disk pressure', 'pod events', 'docker login', 'registry port'. */
  check: string;
  /** Where it was looked at: a node container's name, 'laptop', or 'cluster'. */
  where: string;
  status: FindingStatus;
  /** What is wrong; when ok, what was found. One line. */
  summary: string;
  /** What the finding rests on, quoted: a file's line, a log line, a value (never a secret). */
  evidence?: string;
  /** What to do; set whenever status is warn or fail. */
  fix?: string;
}

/** Exit 0 only when nothing is wrong: a warning is worth reading, a failure explains a failed pull. */
export const hasProblem = (findings: readonly Finding[]): boolean => findings.some((f) => f.status === 'fail');

/** The fix most findings give: up writes every file and object doctor compares again. */
export const UP = 'run k3s-devreg up';

/** One finding of `check` at `where`. */
export const finding = (check: string, where: string, rest: Omit<Finding, 'check' | 'where'>): Finding => ({ check, where, ...rest });
