/** Ids per call where AWS takes lists (EC2 filters, SSM instance lists): the contract's batch size. */
export const BATCH = 50;

/** `items` in slices of `size`. */
export function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with at most `limit` at a time (commands in flight, regions at once). */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * At most `limit` of the works given to the returned function run at once; the others wait
 * their turn, first come first served. One per AWS service (aws/clients.ts) bounds the calls in
 * flight, whatever fans out above it.
 */
export function limiter(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((go) => waiting.push(go));
    else running++;
    try {
      return await work();
    } finally {
      // The slot passes to the next in line (running stays the same), or frees up.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * Starts every work at once and waits for all of them to end, so that none is left running
 * unseen; then throws the first failure in the order given (not the first to fail in time), so
 * the error a person sees does not depend on which answer came first. Returns the results in order.
 */
export async function allInOrder<T>(works: readonly (() => Promise<T>)[]): Promise<T[]> {
  const settled = await Promise.allSettled(works.map((w) => w()));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Waits `ms` (the fake timers of the tests move it on). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
