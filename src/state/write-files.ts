/**
 * Writes rendered files so that a reader never sees half a file and an unchanged file is left alone
 * (its mtime matters: the registry re-reads htpasswd when it changes).
 */
import { chmod, mkdir, readFile, rename, rm, writeFile, access, constants } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Fails before anything is written when the folder cannot be created or written. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(
      `cannot write to ${dir} (${code})`,
      'choose a folder you can write to with --dir, or fix its permissions',
    );
  }
}

export async function writeFileAtomic(path: string, content: string, mode: number): Promise<boolean> {
  const current = await readIfExists(path);
  if (current === content) {
    await chmod(path, mode);
    return false;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, content, { mode });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return true;
}

export async function writeFiles(dir: string, files: RenderedFile[]): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (const file of files) {
    const path = join(dir, file.path);
    results.push({ path, changed: await writeFileAtomic(path, file.content, file.mode) });
  }
  return results;
}
