import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Change, Step, StepContext, StepOutputs } from '../../src/core/step.js';
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

/** What `planned` returns: the state a step read, the changes it planned, and its note on them. */
export interface Planned<K extends string = string, S = unknown> {
  readonly state: S;
  readonly changes: Change<K>[];
  /** The step's remark shown beside the plan (`Step.note`), or undefined. */
  readonly note: string | undefined;
}

/** What `converge` returns: the plan, and the outputs of the apply (or of the state when nothing changed). */
export interface Converged<K extends string = string, S = unknown> extends Planned<K, S> {
  readonly outputs: StepOutputs | undefined;
}

/**
 * read → plan (and note), as the runner does for one step before it shows the plan: nothing is
 * applied. Typed by the step, so the state and changes can be handed to its `apply`.
 */
export async function planned<S, K extends string>(step: Step<S, K>, ctx: StepContext): Promise<Planned<K, S>> {
  const state = await step.read(ctx);
  return { state, changes: step.plan(state, ctx), note: step.note?.(state, ctx) };
}

/**
 * The second half of `converge`: apply a plan only when it has changes, else the outputs of
 * what is there. For tests that look between the plan and the apply (e.g. count the apply's calls).
 */
export async function applyPlanned<S, K extends string>(
  step: Step<S, K>,
  ctx: StepContext,
  plan: Pick<Planned<K, S>, 'state' | 'changes'>,
): Promise<StepOutputs | undefined> {
  return plan.changes.length ? step.apply(ctx, plan.state, plan.changes) : step.outputs(plan.state);
}

/**
 * read → plan → apply, as the runner does it for one step: apply only when the plan has
 * changes, else the outputs of what is there. The runner's order, without its report.
 */
export async function converge<S, K extends string>(step: Step<S, K>, ctx: StepContext): Promise<Converged<K, S>> {
  const plan = await planned(step, ctx);
  return { ...plan, outputs: await applyPlanned(step, ctx, plan) };
}

/** The kinds of a plan, in order: what most plan assertions compare. */
export const kinds = <K extends string>(changes: readonly Change<K>[]): K[] => changes.map((c) => c.kind);
