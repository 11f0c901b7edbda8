/**
 * Writes rendered files so that a reader never sees half a file and an unchanged file is left alone
 * (its mtime matters: the registry re-reads htpasswd when it changes). A set of files is staged
 * first and renamed into place only when every one of them could be written.
 */
// Synchronous on purpose: a render writes about twenty small files, and each fs/promises call is a
// round trip through libuv's thread pool that costs more than the write (start-up time is benchmarked).
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export interface RenderedFile {
  /** Relative to the target folder. */
  path: string;
  content: string;
  /** 0o600 for keys and anything holding a secret. */
  mode: number;
}

export interface WriteResult {
  path: string;
  changed: boolean;
}

const code = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? 'error';

export async function readIfExists(path: string): Promise<string | undefined> {
  return readExisting(path);
}

function readExisting(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    // Below a file (ENOTDIR) nothing can exist either; writing there fails later with a clear error.
    if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

function cannotWrite(path: string, error: unknown): UserError {
  return new UserError(
    `cannot write ${path} (${code(error)})`,
    'choose a folder you can write to with --dir (or K3S_DEVREG_HOME), or fix its permissions or free space',
  );
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir spins for ever below /proc, and a file
 * where a folder should be must be reported, not looped on. Records in `created` (parents first)
 * each folder it made, so a failed write can take them away again.
 */
function makeDirs(dir: string, created: string[] = [], known?: Set<string>): void {
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (known?.has(current)) break;
    try {
      if (!statSync(current).isDirectory()) throw Object.assign(new Error(`${current} is not a folder`), { code: 'ENOTDIR' });
      break;
    } catch (error) {
      if (code(error) !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, { mode: 0o700 });
      created.push(folder);
    } catch (error) {
      if (code(error) !== 'EEXIST') throw error;
    }
  }
  known?.add(resolve(dir));
}

/** Deepest first, and only while empty (rmdir, not rm -r): what someone else put there stays. */
function removeCreated(created: string[]): void {
  for (const folder of [...created].reverse()) {
    try {
      rmdirSync(folder);
    } catch {
      // Not empty, or gone already: left as it is.
    }
  }
}

/** Fails before anything is written when the folder cannot be created or written (and then leaves no folder behind). */
export async function ensureWritableDir(dir: string): Promise<void> {
  const created: string[] = [];
  try {
    makeDirs(dir, created);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    removeCreated(created);
    throw cannotWrite(dir, error);
  }
}

interface Staged {
  temp: string;
  path: string;
}

function stage(path: string, content: string, mode: number, created: string[], known: Set<string>): Staged | undefined {
  if (readExisting(path) === content) {
    chmodSync(path, mode);
    return undefined;
  }
  makeDirs(dirname(path), created, known);
  const temp = join(dirname(path), `.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(temp, content, { mode });
    chmodSync(temp, mode);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return { temp, path };
}

/**
 * Writes `files` below `dir` (made when missing). When one cannot be written, none is, and every
 * folder this call made is gone again: a failed run leaves the tree as it found it.
 */
export async function writeFiles(dir: string, files: RenderedFile[]): Promise<WriteResult[]> {
  const staged: Staged[] = [];
  const results: WriteResult[] = [];
  const created: string[] = [];
  // Folders seen to exist during this call: twenty files in five folders need five checks, not twenty.
  const known = new Set<string>();
  let current = dir;
  try {
    makeDirs(dir, created, known);
    for (const file of files) {
      current = join(dir, file.path);
      const done = stage(current, file.content, file.mode, created, known);
      if (done) staged.push(done);
      results.push({ path: current, changed: done !== undefined });
    }
    for (const { temp, path } of staged) {
      current = path;
      renameSync(temp, path);
    }
  } catch (error) {
    for (const { temp } of staged) rmSync(temp, { force: true });
    removeCreated(created);
    throw cannotWrite(current, error);
  }
  return results;
}

export async function writeFileAtomic(path: string, content: string, mode: number): Promise<boolean> {
  const [result] = await writeFiles(dirname(path), [{ path: path.slice(dirname(path).length + 1), content, mode }]);
  return result?.changed ?? false;
}
