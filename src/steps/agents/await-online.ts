import { type ManagedInfo, managedInventory } from '../../aws/fleet.js';
import { sleep } from '../../base/batch.js';
import type { StepContext, TargetInstance } from '../../core/step.js';

/**
 * How long `agents` waits for targets to come Online after their VPC endpoints appear (an agent
 * retries its registration every few minutes; a new interface endpoint takes a minute or two).
 */
export const onlineWait = { timeoutMs: 5 * 60_000, delayMs: 15_000 };

/**
 * The targets the vpc-endpoints step opens a way to Systems Manager for (`endpointTargets`)
 * that are not Online yet: the ones to wait for.
 */
export function awaitedTargets(targets: readonly TargetInstance[], managed: ReadonlyMap<string, ManagedInfo>, endpointTargets: readonly string[] | undefined) {
  const through = new Set(endpointTargets ?? []);
  return targets.filter((t) => through.has(t.id) && managed.get(t.id)?.pingStatus !== 'Online');
}

/**
 * Polls the inventory of `ids` until every one is Online or `onlineWait.timeoutMs` has passed,
 * showing the count. Returns what Systems Manager knows of them at the end: those still not
 * Online are left for the next run.
 */
export async function waitUntilOnline(ctx: StepContext, ids: readonly string[]): Promise<Map<string, ManagedInfo>> {
  const progress = ctx.io.progress('Waiting for the agents to come Online through the VPC endpoints', ids.length);
  const deadline = Date.now() + onlineWait.timeoutMs;
  let known = new Map<string, ManagedInfo>();
  try {
    for (;;) {
      known = await managedInventory(ctx.aws, ids);
      const online = ids.filter((id) => known.get(id)?.pingStatus === 'Online').length;
      progress.update({ done: online, failed: 0, pending: ids.length - online });
      if (online === ids.length || Date.now() + onlineWait.delayMs > deadline) return known;
      await sleep(onlineWait.delayMs);
    }
  } finally {
    progress.stop();
  }
}
