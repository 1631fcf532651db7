import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetAccountSummaryCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  type PolicyVersion,
  paginateListPolicyVersions,
} from '@aws-sdk/client-iam';
import { errorName, isAccessDenied, isAmbiguous, unlessMissing } from '../../aws/errors.js';
import { createOrFind, lostAnswer, sendOnce } from '../../aws/lost-answers.js';
import { retryWhile } from '../../aws/retry.js';
import { StepError, UsageError } from '../../base/errors.js';
import { MANAGED_BY_TAG } from '../../config/schema.js';
import type { Clients } from '../../core/clients.js';
import type { Io } from '../../core/io.js';
import type { Change } from '../../core/step.js';
import { tagList, tagRecord } from '../../policies/tags.js';
import { type PolicyDocument, parsePolicy, sameJson } from '../../policies/types.js';

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

/** A customer managed policy as it is now: absent, or its default version's document. */
export type ManagedPolicyState =
  | { readonly kind: 'absent'; readonly name: string; readonly arn: string }
  | { readonly kind: 'present'; readonly name: string; readonly arn: string; readonly document?: PolicyDocument };

export type PolicyChange = 'create-policy' | 'update-policy';

export const policyArn = (partition: string, account: string, name: string) => `arn:${partition}:iam::${account}:policy/${name}`;

/** The policy and its default version's document (GetPolicy, GetPolicyVersion). */
export async function readManagedPolicy(iam: IAMClient, name: string, arn: string): Promise<ManagedPolicyState> {
  const policy = (await unlessMissing(iam.send(new GetPolicyCommand({ PolicyArn: arn })), 'NoSuchEntityException'))?.Policy;
  if (!policy) return { kind: 'absent', name, arn };
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId }));
  return { kind: 'present', name, arn, document: parsePolicy(version.PolicyVersion?.Document) };
}

/** Pure: create the policy, or one update line naming the statements that differ. */
export function planManagedPolicy(state: ManagedPolicyState, desired: PolicyDocument, what: string): Change<PolicyChange>[] {
  const sids = desired.Statement.map((s) => s.Sid ?? '?').join(', ');
  if (state.kind === 'absent') {
    return [{ kind: 'create-policy', action: 'create', resource: `IAM policy ${state.name}`, detail: `${what}: ${sids}` }];
  }
  if (state.document && sameJson(state.document, desired)) return [];
  return [
    { kind: 'update-policy', action: 'update', resource: `IAM policy ${state.name}`, detail: `new default version: ${statementDiff(state.document, desired)}` },
  ];
}

/** `changed X; added Y; removed Z`, by statement Sid. */
export function statementDiff(current: PolicyDocument | undefined, desired: PolicyDocument): string {
  const before = new Map((current?.Statement ?? []).map((s) => [s.Sid ?? JSON.stringify(s), s]));
  const after = new Map(desired.Statement.map((s) => [s.Sid ?? JSON.stringify(s), s]));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && !sameJson(before.get(k), after.get(k)));
  const parts = [
    changed.length && `changed ${changed.join(', ')}`,
    added.length && `added ${added.join(', ')}`,
    removed.length && `removed ${removed.join(', ')}`,
  ];
  return parts.filter(Boolean).join('; ') || 'document reformatted';
}

/**
 * Creates the policy (tagged) or makes `desired` its new default version. A policy at its
 * five-version limit first loses its oldest non-default version: checked here, because IAM's
 * LimitExceeded is retried by the SDK as throttling before it surfaces. A lost answer: a
 * CreatePolicy retried into EntityAlreadyExists is done when the policy is ours with `desired`
 * as its default; CreatePolicyVersion, which a retry would make twice, goes without retries and
 * is resent only when the versions read again show it made nothing (see newDefaultVersion).
 */
export async function applyManagedPolicy(
  aws: Pick<Clients, 'get' | 'once'>,
  state: ManagedPolicyState,
  desired: PolicyDocument,
  opts: { stepId: string; description: string; tags: Record<string, string> },
): Promise<string> {
  const iam = aws.get(IAMClient);
  const PolicyDocument = JSON.stringify(desired);
  if (state.kind === 'absent') {
    const Tags = tagList(opts.tags);
    return createOrFind(
      async () =>
        (await iam.send(new CreatePolicyCommand({ PolicyName: state.name, PolicyDocument, Description: opts.description, Tags }))).Policy?.Arn ?? state.arn,
      ['EntityAlreadyExistsException'],
      async () => ((await isOursAsWanted(iam, state.arn, desired)) ? state.arn : undefined),
    );
  }
  const versions = await listVersions(iam, state.arn);
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = versions.filter((v) => !v.IsDefaultVersion).sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))[0];
    // Resent after a lost answer, it meets NoSuchEntity: the version is gone, as wanted.
    if (oldest?.VersionId)
      await unlessMissing(iam.send(new DeletePolicyVersionCommand({ PolicyArn: state.arn, VersionId: oldest.VersionId })), 'NoSuchEntityException');
  }
  await newDefaultVersion(aws, state.arn, desired, opts.stepId);
  return state.arn;
}

/** Every version of a policy (all pages), newest first as IAM lists them. */
async function listVersions(iam: IAMClient, PolicyArn: string): Promise<PolicyVersion[]> {
  const versions: PolicyVersion[] = [];
  for await (const page of paginateListPolicyVersions({ client: iam }, { PolicyArn })) versions.push(...(page.Versions ?? []));
  return versions;
}

/** The document of the policy's default version is `desired`. */
async function defaultIs(iam: IAMClient, PolicyArn: string, desired: PolicyDocument, VersionId?: string): Promise<boolean> {
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId }));
  return sameJson(parsePolicy(version.PolicyVersion?.Document), desired);
}

/** The policy is ssm-setup's (ManagedBy tag) and its default version holds `desired`. */
async function isOursAsWanted(iam: IAMClient, PolicyArn: string, desired: PolicyDocument): Promise<boolean> {
  const policy = (await unlessMissing(iam.send(new GetPolicyCommand({ PolicyArn })), 'NoSuchEntityException'))?.Policy;
  if (!policy || tagRecord(policy.Tags)[MANAGED_BY_TAG.key] !== MANAGED_BY_TAG.value) return false;
  return defaultIs(iam, PolicyArn, desired, policy.DefaultVersionId);
}

/**
 * CreatePolicyVersion (set as default) through the client without automatic retries: a blind
 * retry after a lost answer would add a second identical version and eat into the five. After an
 * ambiguous failure the default version is read again: `desired` already → done; else the call
 * made nothing (a new version is the default at once) and is sent once more. Twice: LOST_ANSWER.
 */
async function newDefaultVersion(aws: Pick<Clients, 'get' | 'once'>, PolicyArn: string, desired: PolicyDocument, stepId: string): Promise<void> {
  const PolicyDocument = JSON.stringify(desired);
  const iam = aws.get(IAMClient);
  try {
    await sendOnce(
      async () => {
        await aws.once(IAMClient).send(new CreatePolicyVersionCommand({ PolicyArn, PolicyDocument, SetAsDefault: true }));
        return true;
      },
      // The lost call made the version (a new version is the default at once) when the default is `desired`.
      async () => {
        const current = (await iam.send(new GetPolicyCommand({ PolicyArn }))).Policy?.DefaultVersionId;
        return (await defaultIs(iam, PolicyArn, desired, current)) || undefined;
      },
    );
  } catch (err) {
    throw isAmbiguous(err) ? lostAnswer(stepId, 'IAM.CreatePolicyVersion', err, `a new default version of ${PolicyArn}`) : err;
  }
}

/** How many managed policies a role, user or group may have; `default` when GetAccountSummary was denied. */
export interface AttachQuotas {
  readonly role: number;
  readonly user: number;
  readonly group: number;
  readonly source: 'account' | 'default';
}

/** IAM's default for each of the three (IAM User Guide, "IAM and AWS STS quotas"). */
export const DEFAULT_ATTACH_QUOTA = 10;
const DEFAULT_QUOTAS: AttachQuotas = { role: DEFAULT_ATTACH_QUOTA, user: DEFAULT_ATTACH_QUOTA, group: DEFAULT_ATTACH_QUOTA, source: 'default' };

// One GetAccountSummary per run: the runner shares one IAM client among the steps of a run.
const quotaReads = new WeakMap<IAMClient, Promise<AttachQuotas>>();

/**
 * The account's managed-policy quotas (iam:GetAccountSummary), read once per run. Denied, it
 * falls back to IAM's default of 10 each; any other failure is the caller's.
 */
export function readAttachQuotas(iam: IAMClient): Promise<AttachQuotas> {
  let read = quotaReads.get(iam);
  if (!read) {
    read = summaryQuotas(iam);
    quotaReads.set(iam, read);
    read.catch(() => quotaReads.delete(iam)); // a failed read is not remembered
  }
  return read;
}

async function summaryQuotas(iam: IAMClient): Promise<AttachQuotas> {
  try {
    const map = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
    const quota = (key: string) => map[key as keyof typeof map] ?? DEFAULT_ATTACH_QUOTA;
    return {
      role: quota('AttachedPoliciesPerRoleQuota'),
      user: quota('AttachedPoliciesPerUserQuota'),
      group: quota('AttachedPoliciesPerGroupQuota'),
      source: 'account',
    };
  } catch (err) {
    if (isAccessDenied(err)) return DEFAULT_QUOTAS;
    throw err;
  }
}

/** A role, user or group that is to get managed policies. */
export interface AttachTarget {
  readonly kind: 'role' | 'user' | 'group';
  readonly name: string;
  /** ARNs of the managed policies attached now. */
  readonly attached: Iterable<string>;
  /** ARNs to attach, none of them attached yet. */
  readonly adding: readonly string[];
}

const policyName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const QUOTA_NAME = { role: 'PoliciesPerRole', user: 'PoliciesPerUser', group: 'PoliciesPerGroup' } as const;

/**
 * Pure. Throws POLICY_QUOTA, before anything is written, when a role, user or group cannot
 * take what would be attached: IAM would answer LimitExceeded, which the SDK retries as
 * throttling, after earlier changes of the run were made. Names each one, its quota, what
 * it has, and the ways out; `extraFix` adds a step-specific one.
 */
export function refuseOverQuota(stepId: string, targets: readonly AttachTarget[], quotas: AttachQuotas | undefined, extraFix?: string): void {
  const q = quotas ?? DEFAULT_QUOTAS;
  const full = targets
    .map((t) => ({ ...t, has: [...t.attached], limit: q[t.kind] }))
    .filter((t) => t.adding.length && t.has.length + t.adding.length > t.limit);
  if (!full.length) return;
  const whose = q.source === 'account' ? 'the account’s quota' : `IAM’s default quota (iam:GetAccountSummary was denied, so the account’s own is unknown)`;
  const problems = full.map(
    (t) =>
      `IAM ${t.kind} ${t.name} has ${t.has.length} managed policies attached and may have ${t.limit} (${QUOTA_NAME[t.kind]}, ${whose}): attaching ${t.adding.map(policyName).join(', ')} would make ${t.has.length + t.adding.length}`,
  );
  const detach = full.map((t) => {
    const need = t.has.length + t.adding.length - t.limit;
    return `detach ${need === 1 ? 'one' : need} of the ${t.has.length} policies of ${t.kind} ${t.name} (${t.has.map(policyName).join(', ')}) with aws iam detach-${t.kind}-policy`;
  });
  const kinds = [...new Set(full.map((t) => t.kind))];
  const hint = [
    `Nothing was changed. Make room: ${detach.join('; ')}`,
    'or move the rights of some of them into an inline policy and detach those',
    `or raise "Managed policies per ${kinds.join('/')}" for IAM in Service Quotas`,
    ...(extraFix ? [`or ${extraFix}`] : []),
  ].join('; ');
  throw new StepError(stepId, 'POLICY_QUOTA', problems.join('; '), { hint: `${hint}; then rerun` });
}

// IAM's tag pattern ([\p{L}\p{Z}\p{N}_.:/=+\-@]), stricter than S3's or KMS's; keys are case-insensitive in IAM.
const IAM_TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_IAM_TAGS = 50;

/**
 * Pure. Throws INVALID_SETTINGS (exit 2, before any write) when IAM would refuse the tags of
 * a resource it creates: a character outside its pattern (ValidationError), keys that differ
 * only in case (InvalidInput), more than 50.
 */
export function refuseBadIamTags(tags: Readonly<Record<string, string>>): void {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!IAM_TAG_CHARS.test(key)) problems.push(`--tags: the key "${key}" has a character IAM does not allow in tags`);
    if (!IAM_TAG_CHARS.test(value)) problems.push(`--tags: the value of ${key} ("${value}") has a character IAM does not allow in tags`);
  }
  const byCase = new Map<string, string[]>();
  for (const key of Object.keys(tags)) byCase.set(key.toLowerCase(), [...(byCase.get(key.toLowerCase()) ?? []), key]);
  for (const same of byCase.values())
    if (same.length > 1) problems.push(`--tags: ${same.join(' and ')} are one key for IAM (tag keys are case-insensitive there)`);
  if (Object.keys(tags).length > MAX_IAM_TAGS) problems.push(`--tags: IAM takes at most ${MAX_IAM_TAGS} tags, ManagedBy included`);
  if (problems.length) {
    throw new UsageError('INVALID_SETTINGS', problems, { hint: 'Nothing was changed. IAM tags hold letters, digits, spaces and _ . : / = + - @ only.' });
  }
}

/** How long to wait for IAM to know what this run just created (seconds, usually); tests shorten it. */
export const iamConsistency = { timeoutMs: 30_000, delayMs: 1_000, maxDelayMs: 8_000 };

/**
 * Runs an IAM call that names a policy, role or profile created a moment ago: IAM may answer
 * NoSuchEntity for a few seconds after the create, so that is retried, with progress. Use it
 * only right after a create: elsewhere NoSuchEntity is real.
 */
export function whenIamKnows<T>(io: Pick<Io, 'info'>, what: string, work: () => Promise<T>): Promise<T> {
  return retryWhile(
    work,
    (err) => errorName(err) === 'NoSuchEntityException',
    (waited) => io.info(`  waiting for IAM to know ${what} (${Math.round(waited / 1000)}s)…`),
    iamConsistency,
  );
}
