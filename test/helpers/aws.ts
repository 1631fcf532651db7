import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AnyStep, Change, StepContext, StepOutputs } from '../../src/core/step.js';
import { ACCOUNT, IDENTITY } from './fixtures.js';

/**
 * The one STS mock of the tests (as CDK's mock-sdk.ts has one): GetCallerIdentity answers as
 * IDENTITY (an IAM user in ACCOUNT), or as `arn` when a test needs another caller.
 */
export function mockIdentity(arn = IDENTITY.arn, userId = IDENTITY.userId) {
  const sts = mockClient(STSClient);
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: arn, UserId: userId });
  return sts;
}

export interface Converged<K extends string = string> {
  readonly state: unknown;
  readonly changes: Change<K>[];
  readonly outputs: StepOutputs | undefined;
}

/**
 * read → plan → apply, as the runner does it for one step: apply only when the plan has
 * changes, else the outputs of what is there. The runner's order, without its report.
 */
export async function converge(step: AnyStep, ctx: StepContext): Promise<Converged> {
  const state = await step.read(ctx);
  const changes = step.plan(state, ctx);
  const outputs = changes.length ? await step.apply(ctx, state, changes) : step.outputs(state);
  return { state, changes, outputs };
}

/** The kinds of a plan, in order: what most plan assertions compare. */
export const kinds = (changes: readonly Change[]) => changes.map((c) => c.kind);
