import { randomUUID } from 'node:crypto';
import {
  type CommandInvocation,
  type InstanceInformation,
  ListCommandInvocationsCommand,
  paginateDescribeInstanceInformation,
  paginateListCommands,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { chunks, pool, sleep } from '../base/batch.js';
import { AbortedError } from '../base/errors.js';
import type { Clients } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { errorName, isAmbiguous } from './errors.js';
import { sendOnce } from './lost-answers.js';

/** What Systems Manager knows of one instance. */
export interface ManagedInfo {
  readonly instanceId: string;
  /** Online, ConnectionLost or Inactive. */
  readonly pingStatus: string;
  readonly agentVersion?: string;
  readonly isLatest: boolean;
  readonly platformType?: string;
  readonly platformName?: string;
}

/**
 * The managed-instance inventory of the given instances: DescribeInstanceInformation filtered
 * by 50 ids per call, paginated. An instance missing from the answer is not managed.
 */
export async function managedInventory(aws: Clients, instanceIds: readonly string[]): Promise<Map<string, ManagedInfo>> {
  const ssm = aws.get(SSMClient);
  // The batches at once (the SSM client bounds the calls in flight); merged in batch order.
  const batches = await Promise.all(
    chunks(instanceIds).map(async (batch) => {
      const list: InstanceInformation[] = [];
      const pages = paginateDescribeInstanceInformation({ client: ssm, pageSize: 50 }, { Filters: [{ Key: 'InstanceIds', Values: batch }] });
      for await (const page of pages) list.push(...(page.InstanceInformationList ?? []));
      return list;
    }),
  );
  const found = new Map<string, ManagedInfo>();
  for (const list of batches) {
    for (const i of list) {
      if (!i.InstanceId) continue;
      found.set(i.InstanceId, {
        instanceId: i.InstanceId,
        pingStatus: i.PingStatus ?? 'Inactive',
        agentVersion: i.AgentVersion,
        isLatest: i.IsLatestVersion === true,
        platformType: i.PlatformType,
        platformName: i.PlatformName,
      });
    }
  }
  return found;
}

export interface CommandSpec {
  readonly document: string;
  readonly parameters: Record<string, string[]>;
  /** Progress label, e.g. "Updating SSM Agent". */
  readonly label: string;
  /** Also collect what each instance printed (ListCommandInvocations with Details: the first 2,500 characters). */
  readonly output?: boolean;
}

export interface InvocationResult {
  readonly instanceId: string;
  /** Success, Failed, TimedOut, Cancelled… */
  readonly status: string;
  readonly detail?: string;
  /** What the document printed (its first plugin's Output), with `CommandSpec.output`. */
  readonly output?: string;
}

/** Polling and concurrency of Run Command; tests shorten the waits. */
export const runTiming = { firstPollMs: 2_000, maxPollMs: 15_000, timeoutMs: 15 * 60_000, inFlight: 4 };

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

/**
 * Runs one document on many instances: one SendCommand per 50 instances, a few commands in
 * flight at once, each polled with ListCommandInvocations (all its instances per call) with
 * back-off, until every invocation is final or the time is up. One instance failing does not
 * stop the others; the results say who failed and why. SendCommand goes without the SDK's
 * retries (a resend runs the document twice): after a lost answer the command is looked for in
 * the history (`findSent`) and adopted, and sent again only when it is not there.
 */
export async function runOnFleet(aws: Clients, io: Io, spec: CommandSpec, instanceIds: readonly string[]): Promise<InvocationResult[]> {
  const ssm = aws.get(SSMClient);
  const results = new Map<string, InvocationResult>(instanceIds.map((id) => [id, { instanceId: id, status: 'Pending' }]));
  const progress = io.progress(spec.label, instanceIds.length);
  const report = () => {
    const all = [...results.values()];
    const failed = all.filter((r) => TERMINAL.has(r.status) && r.status !== 'Success').length;
    const done = all.filter((r) => r.status === 'Success').length;
    progress.update({ done, failed, pending: all.length - done - failed });
  };
  const deadline = Date.now() + runTiming.timeoutMs;
  // A mark of this run in the comment: a command whose answer was lost is told from any other
  // in the history by it and its instance ids.
  const Comment = `${`ssm-setup: ${spec.label}`.slice(0, 88)} (${randomUUID().slice(0, 8)})`;

  // Without the SDK's retries: a lost answer is looked for in the history before a resend.
  const send = async (ids: string[]) => {
    const since = new Date(Date.now() - CLOCK_SKEW_MS);
    return sendOnce(
      async () =>
        (
          await aws
            .once(SSMClient)
            .send(new SendCommandCommand({ DocumentName: spec.document, InstanceIds: ids, Parameters: spec.parameters, Comment, TimeoutSeconds: 600 }))
        ).Command?.CommandId,
      () => findSent(ssm, { document: spec.document, Comment, ids, since }),
    );
  };
  const fail = (ids: readonly string[], detail: string) => {
    for (const id of ids) results.set(id, { instanceId: id, status: 'Failed', detail });
    report();
  };
  const failure = (err: unknown) =>
    isAmbiguous(err)
      ? `SendCommand answer lost (${errorName(err) || (err as Error).message}) and no such command in the history: rerun (LOST_ANSWER)`
      : `SendCommand failed: ${errorName(err)}: ${(err as Error).message}`;

  try {
    await pool(chunks(instanceIds), runTiming.inFlight, (first) => runBatch(first));
  } finally {
    // After a failure or Ctrl-C too: a spinner left running keeps the process alive.
    progress.stop();
  }
  return [...results.values()];

  async function runBatch(first: string[]): Promise<void> {
    let batch = first;
    let commandId: string | undefined;
    try {
      commandId = await send(batch);
    } catch (err) {
      // Ctrl-C is the run's to report, not a failure of these instances.
      if (err instanceof AbortedError) throw err;
      // One instance that dropped off since the inventory fails the whole call: send again
      // to those still Online, and fail only the others.
      if (errorName(err) !== 'InvalidInstanceId') return fail(batch, failure(err));
      const now = await managedInventory(aws, batch);
      const reachable = batch.filter((id) => now.get(id)?.pingStatus === 'Online');
      fail(
        batch.filter((id) => !reachable.includes(id)),
        'no longer managed and Online when the command was sent (InvalidInstanceId)',
      );
      if (!reachable.length || reachable.length === batch.length) return fail(reachable, `SendCommand failed: ${(err as Error).message}`);
      batch = reachable;
      try {
        commandId = await send(batch);
      } catch (again) {
        if (again instanceof AbortedError) throw again;
        return fail(batch, failure(again));
      }
    }
    for (let wait = runTiming.firstPollMs; ; wait = Math.min(wait * 2, runTiming.maxPollMs)) {
      await sleep(wait);
      for (const inv of await invocations(ssm, commandId!, spec.output === true)) {
        if (inv.InstanceId && results.has(inv.InstanceId)) results.set(inv.InstanceId, toResult(inv));
      }
      report();
      if (batch.every((id) => TERMINAL.has(results.get(id)!.status))) return;
      if (Date.now() + wait > deadline) {
        for (const id of batch.filter((i) => !TERMINAL.has(results.get(i)!.status))) {
          results.set(id, {
            instanceId: id,
            status: 'TimedOut',
            detail: `still ${results.get(id)!.status} when ssm-setup stopped waiting (command ${commandId})`,
          });
        }
        report();
        return;
      }
    }
  }
}

/** How far before a send the history is searched: the local clock may be behind or ahead of AWS's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The CommandId of the command a lost SendCommand answer may have made: ListCommands of the
 * document from just before the send (`since`, ISO 8601 to the second), matched by its
 * comment, which carries this run's mark, and its instance ids.
 */
async function findSent(ssm: SSMClient, sent: { document: string; Comment: string; ids: readonly string[]; since: Date }): Promise<string | undefined> {
  const want = [...sent.ids].sort().join();
  const Filters = [
    { key: 'DocumentName' as const, value: sent.document },
    { key: 'InvokedAfter' as const, value: sent.since.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  ];
  for await (const page of paginateListCommands({ client: ssm, pageSize: 50 }, { Filters })) {
    const hit = (page.Commands ?? []).find((c) => c.Comment === sent.Comment && [...(c.InstanceIds ?? [])].sort().join() === want);
    if (hit?.CommandId) return hit.CommandId;
  }
  return undefined;
}

async function invocations(ssm: SSMClient, CommandId: string, Details: boolean): Promise<CommandInvocation[]> {
  const all: CommandInvocation[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId, NextToken, MaxResults: 50, ...(Details ? { Details } : {}) }));
    all.push(...(page.CommandInvocations ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return all;
}

function toResult(inv: CommandInvocation): InvocationResult {
  const status = inv.Status ?? 'Pending';
  const detail = inv.StatusDetails && inv.StatusDetails !== status ? inv.StatusDetails : undefined;
  const output = inv.CommandPlugins?.[0]?.Output;
  return { instanceId: inv.InstanceId!, status, ...(detail ? { detail } : {}), ...(output !== undefined ? { output } : {}) };
}
