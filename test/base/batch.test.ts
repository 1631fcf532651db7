import { describe, expect, it } from 'vitest';
import { allInOrder, limiter } from '../../src/base/batch.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('limiter: the bound on calls in flight per service', () => {
  it('runs at most `limit` works at once; the others wait their turn, first come first served', async () => {
    const bound = limiter(3);
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const runs = Array.from({ length: 10 }, (_, n) =>
      bound(async () => {
        order.push(n);
        most = Math.max(most, ++inFlight);
        await new Promise<void>((go) => gates.push(go));
        inFlight--;
        return n;
      }),
    );
    while (order.length < 10) {
      await tick();
      gates.shift()?.();
    }
    for (const go of gates) go();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failed work frees its slot', async () => {
    const bound = limiter(1);
    await expect(bound(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(bound(async () => 1)).resolves.toBe(1);
  });
});

describe('allInOrder: independent writes at once', () => {
  it('starts every work before any has answered', async () => {
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const all = allInOrder(
      [0, 1, 2].map((n) => async () => {
        started.push(n);
        await new Promise<void>((go) => gates.push(go));
        return n;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const go of gates.reverse()) go();
    expect(await all).toEqual([0, 1, 2]);
  });

  it('waits for all, then throws the first failure in the order given, not in time', async () => {
    let finished = false;
    const first = new Error('first in order');
    const works = [
      async () => {
        await tick();
        await tick();
        throw first;
      },
      async () => {
        throw new Error('first in time');
      },
      async () => {
        await tick();
        finished = true;
      },
    ];
    await expect(allInOrder(works)).rejects.toBe(first);
    expect(finished).toBe(true);
  });
});
