/** The sha256 digests the tool compares (manifest annotations, render stamps, up-state fingerprints). */
import { createHash } from 'node:crypto';

/** Hex sha256 of one text (UTF-8). */
export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Hex sha256 of several parts, each ended by a NUL, so that ('ab', 'c') and ('a', 'bc') differ. */
export const sha256Of = (...parts: string[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part, 'utf8').update('\0');
  return hash.digest('hex');
};
