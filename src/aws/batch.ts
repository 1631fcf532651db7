/** Ids per call where AWS takes lists (EC2 filters, SSM instance lists): the contract's batch size. */
export const BATCH = 50;

/** `items` in slices of `size`. */
export function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
