/** "Did you mean": the nearest of the words a place accepts, for an option or a key typed wrong. */

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate nearest to `word` (compared as `normalize` makes them), if any is close enough to
 * suggest: at most 2 edits, and at most a third of the candidate's length; the first of equals wins.
 */
export function nearest(word: string, candidates: readonly string[], normalize: (s: string) => string = (s) => s): string | undefined {
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(normalize(word), normalize(candidate)) }))
    .filter(({ candidate, distance }) => distance <= Math.min(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  return scored[0]?.candidate;
}
