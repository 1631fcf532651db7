/** The edit distance between two strings (insertions, deletions, substitutions), for did-you-mean. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `value` within `max` edits, or undefined. */
export function closest(value: string, candidates: readonly string[], max = 2): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(value, c);
    if (d <= max && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}
