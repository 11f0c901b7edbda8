/**
 * containerd's log on a node, read for doctor: its logrus text lines parsed, and the last failed
 * pulls from our registry's names, each quoted and explained (pull-errors.ts). Pure: no I/O.
 */
import { readGoQuoted } from './go-string.js';
import { explainPullError, type PullErrorExplanation } from './pull-errors.js';

/** The port of the localhost:PORT name among `hosts`, when there is one. */
export function localhostPortOf(hosts: readonly string[]): number | undefined {
  const port = hosts.map((h) => /^localhost:(\d+)$/.exec(h)?.[1]).find((p) => p !== undefined);
  return port === undefined ? undefined : Number(port);
}

/** One line of containerd's log (logrus text format: key=value, values Go-quoted when they hold spaces). */
export interface ContainerdLogLine {
  time?: string;
  level?: string;
  msg?: string;
  error?: string;
  fields: Record<string, string>;
}

export function parseContainerdLogLine(line: string): ContainerdLogLine | undefined {
  const fields: Record<string, string> = {};
  const key = /([A-Za-z_][\w.-]*)=/y;
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    key.lastIndex = i;
    const m = key.exec(line);
    if (!m) return undefined;
    i = key.lastIndex;
    let value: string;
    if (line[i] === '"') [value, i] = readGoQuoted(line, i);
    else {
      const end = line.indexOf(' ', i);
      value = line.slice(i, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    }
    fields[m[1]!] = value;
  }
  if (!('msg' in fields) && !('level' in fields)) return undefined;
  const { time, level, msg, error } = fields;
  return { fields, ...(time !== undefined ? { time } : {}), ...(level !== undefined ? { level } : {}), ...(msg !== undefined ? { msg } : {}), ...(error !== undefined ? { error } : {}) };
}

export interface PullErrorLine {
  /** The log line as it stands, trimmed (a long one cut in the middle to QUOTE_MAX characters). */
  quote: string;
  time?: string;
  /** The image the line names (PullImage "IMAGE" failed), when it does. */
  image?: string;
  explanation?: PullErrorExplanation;
}

const QUOTE_MAX = 600;
/** A long line keeps its start (time, level, image) and its end, where Go's error chain names the cause. */
export const quoteOf = (line: string): string => (line.length > QUOTE_MAX ? `${line.slice(0, 150)} … ${line.slice(line.length - (QUOTE_MAX - 153))}` : line);

/**
 * The last `limit` error lines of a containerd log that concern one of `hosts` (e.g.
 * container-registry.local:5000, localhost:31113), oldest first; a repeated error (the kubelet's
 * back-off retries) counts once, at its last time, and one followed by a successful pull of the same
 * image (`PullImage "..." returns image reference`) not at all, nor one logged before `since` (ms
 * since the epoch, e.g. when the node container last started; a line without a readable time is kept).
 */
export function pullErrorsFor(logText: string, hosts: readonly string[], limit = 3, since?: number): PullErrorLine[] {
  const found = new Map<string, PullErrorLine>();
  const port = localhostPortOf(hosts);
  for (const raw of logText.split('\n')) {
    const line = raw.trim();
    if (!line || !hosts.some((h) => line.includes(h))) continue;
    const parsed = parseContainerdLogLine(line);
    const pulled = /^PullImage "([^"]+)" returns image reference/.exec(parsed?.msg ?? '')?.[1];
    // A later successful pull of the same image: that failure is over.
    if (pulled) for (const [key, seen] of found) if (seen.image === pulled) found.delete(key);
    if (!parsed?.error || !/^(error|warning|fatal)$/.test(parsed.level ?? '')) continue;
    if (since !== undefined && parsed.time !== undefined && Date.parse(parsed.time) < since) continue;
    const image = /^PullImage "([^"]+)"/.exec(parsed.msg ?? '')?.[1];
    const key = `${image ?? ''}\n${parsed.error}`;
    const explanation = explainPullError(parsed.error, port);
    found.delete(key);
    found.set(key, { quote: quoteOf(line), ...(parsed.time ? { time: parsed.time } : {}), ...(image ? { image } : {}), ...(explanation ? { explanation } : {}) });
  }
  return [...found.values()].slice(-limit);
}
