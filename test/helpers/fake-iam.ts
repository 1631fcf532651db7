import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DescribeIamInstanceProfileAssociationsCommand,
  EC2Client,
  type Filter,
  type IamInstanceProfileAssociationState,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteConflictException,
  DeletePolicyVersionCommand,
  EntityAlreadyExistsException,
  GetAccountSummaryCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  SimulatePrincipalPolicyCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.js';
import { ACCOUNT } from './fixtures.js';
import { type LossOptions, lossyAnswers } from './lost-answer.js';

export interface FakePolicyVersion {
  readonly id: string;
  /** The document exactly as it was sent (IAM returns it URL-encoded). */
  readonly document: string;
  readonly created: Date;
}
export interface FakePolicy {
  readonly name: string;
  readonly arn: string;
  defaultVersion: string;
  versions: FakePolicyVersion[];
  /** IAM never reuses a version id. */
  lastVersion: number;
  tags: Record<string, string>;
  description?: string;
}
export interface FakeRole {
  readonly name: string;
  readonly arn: string;
  trust: string;
  attached: Set<string>;
  tags: Record<string, string>;
}
export interface FakeProfile {
  readonly name: string;
  readonly arn: string;
  roles: string[];
  tags: Record<string, string>;
  /** Made by CreateInstanceProfile (not addProfile): EC2 may not see it yet (fake-ec2 `profileLag`). */
  readonly created?: boolean;
}
export interface FakeAssociation {
  readonly id: string;
  readonly instanceId: string;
  readonly profileArn: string;
  state: IamInstanceProfileAssociationState;
}
export interface FakePrincipal {
  attached: Set<string>;
}

/** The account's managed-policy quotas per role, user and group (IAM's defaults: 10 each). */
export interface FakeQuotas {
  role: number;
  user: number;
  group: number;
}

export interface FakeIamOptions {
  /** Managed policies per role, user, group; each defaults to IAM's 10. Also what GetAccountSummary reports. */
  readonly quotas?: Partial<FakeQuotas>;
  /** Items per page of the List calls when the request gives no MaxItems (IAM: 100). */
  readonly pageSize?: number;
  /**
   * IAM's eventual consistency: the first attach or AddRoleToInstanceProfile that names a
   * policy, role or profile created through the fake (not through addPolicy/addRole…) answers
   * NoSuchEntity once, as IAM may for a few seconds after the create.
   */
  readonly propagation?: boolean;
  /**
   * Mock EC2's two instance-profile association calls too (default true). Off when the one EC2
   * world of test/helpers/fake-ec2.ts answers them (test/helpers/fake-account.ts).
   */
  readonly ec2?: boolean;
}

export const policyArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:policy/${name}`;
export const roleArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const profileArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
const AWS_MANAGED = /^arn:aws:iam::aws:policy\//;

/** IAM's fixed limits (IAM User Guide, "IAM and AWS STS quotas"; the API reference for the patterns). */
export const IAM_LIMITS = {
  policySize: 6144,
  trustPolicySize: 2048,
  versions: 5,
  tags: 50,
  description: 1000,
} as const;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const NAME = (max: number) => new RegExp(`^[\\w+=,.@-]{1,${max}}$`);
/** Policy documents may hold only tab, LF, CR and U+0020–U+00FF. */
const POLICY_CHARS = /^[\t\n\r\u0020-\u00FF]*$/;

const meta = { $metadata: { httpStatusCode: 400 } };
const noSuchEntity = (message: string) => new NoSuchEntityException({ message, $metadata: { httpStatusCode: 404 } });
const alreadyExists = (message: string) => new EntityAlreadyExistsException({ message, ...meta });
const limitExceeded = (message: string) => new LimitExceededException({ message, $metadata: { httpStatusCode: 409 } });
/** What the API model refuses (a pattern, a length): IAM answers ValidationError, which the SDK does not model. */
const validationError = (message: string) =>
  new IAMServiceException({ name: 'ValidationError', $fault: 'client', message: `1 validation error detected: ${message}`, ...meta });
/** EC2 errors carry only a code as their name (the query protocol has no modelled exceptions). */
export const ec2Error = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: 'client' as const, ...meta });

const tagMap = (tags: readonly Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const asText = (doc: PolicyDocument | string) => (typeof doc === 'string' ? doc : JSON.stringify(doc));
const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** IAM counts a policy's size without its white space. */
const sizeOf = (doc: string) => doc.replace(/\s/g, '').length;

/** A name IAM accepts, else the ValidationError it answers. */
function checkName(field: string, value: string | undefined, max: number): void {
  if (!NAME(max).test(value ?? ''))
    throw validationError(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length at most ${max}`,
    );
}

/** Tag rules of CreatePolicy, CreateRole, CreateInstanceProfile: 50 at most, IAM's characters, keys unique ignoring case. */
function checkTags(tags: readonly Tag[] | undefined): void {
  const list = tags ?? [];
  if (list.length > IAM_LIMITS.tags)
    throw validationError(`Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to ${IAM_LIMITS.tags}`);
  list.forEach((t, n) => {
    if (!TAG_KEY.test(t.Key ?? ''))
      throw validationError(
        `Value '${t.Key}' at 'tags.${n + 1}.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`,
      );
    if (!TAG_VALUE.test(t.Value ?? ''))
      throw validationError(
        `Value '${t.Value}' at 'tags.${n + 1}.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`,
      );
  });
  const keys = list.map((t) => (t.Key ?? '').toLowerCase());
  if (new Set(keys).size !== keys.length)
    throw new InvalidInputException({ message: 'Duplicate tag keys found. Please note that Tag keys are case insensitive.', ...meta });
}

function checkDescription(description: string | undefined): void {
  if ((description ?? '').length > IAM_LIMITS.description)
    throw validationError(`Value at 'description' failed to satisfy constraint: Member must have length less than or equal to ${IAM_LIMITS.description}`);
}

/** A permissions policy as IAM checks it: JSON with Version and Statement, its characters, at most 6,144 characters without white space. */
function checkDocument(doc: string | undefined, limit: { size: number; quota: string } = { size: IAM_LIMITS.policySize, quota: 'PolicySize' }): void {
  try {
    const parsed = JSON.parse(doc ?? '') as { Version?: string; Statement?: unknown };
    if (parsed.Version !== '2012-10-17' || !parsed.Statement || !POLICY_CHARS.test(doc ?? '')) throw new Error('bad');
  } catch {
    throw new MalformedPolicyDocumentException({ message: 'Syntax errors in policy.', ...meta });
  }
  if (sizeOf(doc!) > limit.size) throw limitExceeded(`Cannot exceed quota for ${limit.quota}: ${limit.size}`);
}

/** One page of a List call: IAM's Marker / MaxItems / IsTruncated. */
function page<T>(items: readonly T[], input: { Marker?: string; MaxItems?: number }, pageSize: number): { items: T[]; IsTruncated: boolean; Marker?: string } {
  if (input.MaxItems !== undefined && (input.MaxItems < 1 || input.MaxItems > 1000))
    throw validationError(`Value '${input.MaxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  const start = input.Marker ? Number(input.Marker.replace(/^m/, '')) : 0;
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new InvalidInputException({ message: 'Invalid Marker.', ...meta });
  const end = start + (input.MaxItems ?? pageSize);
  return end < items.length ? { items: items.slice(start, end), IsTruncated: true, Marker: `m${end}` } : { items: items.slice(start), IsTruncated: false };
}

/**
 * A small stateful IAM (plus the two EC2 calls for instance profile associations) behind
 * aws-sdk-client-mock, enough to prove that instance-role and operator-policy converge: apply,
 * then read again, and the plan is empty. It refuses what IAM refuses, with IAM's error names:
 * - LimitExceeded: a sixth policy version; a second role in an instance profile; a managed policy
 *   attached beyond the role's, user's or group's quota (`PoliciesPerRole: 10`, configurable); a
 *   policy over 6,144 characters without white space (`PolicySize: 6144`); a trust policy over
 *   2,048 (`ACLSizePerRole: 2048`).
 * - MalformedPolicyDocument: not JSON, no Version 2012-10-17 or Statement, characters outside U+0020–U+00FF.
 * - ValidationError (the API model): more than 50 tags, tag characters, names, a Description over 1,000.
 * - InvalidInput: tag keys that differ only in case. DeleteConflict: deleting the default version.
 * - NoSuchEntity: attaching needs the policy and the principal; with `propagation`, once right after a create.
 *   The AWS managed policies of aws-managed-policies.ts exist (GetPolicy, GetPolicyVersion); others are attachable only.
 * - EC2: one association per instance (IncorrectState).
 * - SimulatePrincipalPolicy: AccessDenied. The fake does not evaluate policies: it answers as IAM
 *   does a caller without iam:SimulatePrincipalPolicy, and the code reads the policies instead.
 * It holds no inline policies (ListRolePolicies and ListUserPolicies are empty) and no group
 * members (ListGroupsForUser is empty).
 * The List calls page as IAM does (Marker, MaxItems, 100 by default). GetAccountSummary reports
 * the quotas. Commands it does not implement are rejected, so an unexpected call fails the test
 * instead of answering `{}`.
 */
export function fakeIam(opts: FakeIamOptions = {}) {
  const iam = mockClient(IAMClient);
  const withEc2 = opts.ec2 ?? true;
  const ec2 = withEc2 ? mockClient(EC2Client) : undefined;
  const policies = new Map<string, FakePolicy>(); // by ARN
  const roles = new Map<string, FakeRole>();
  const profiles = new Map<string, FakeProfile>();
  const users = new Map<string, FakePrincipal>();
  const groups = new Map<string, FakePrincipal>();
  const associations = new Map<string, FakeAssociation>(); // by association id
  const failures = new Map<string, Error[]>();
  const quotas: FakeQuotas = { role: 10, user: 10, group: 10, ...opts.quotas };
  const pageSize = opts.pageSize ?? 100;
  /** Entities created through the fake that IAM does not show everywhere yet (`propagation`). */
  const unseen = new Set<string>();
  let clock = Date.UTC(2024, 0, 1);
  let associationCount = 0;
  const tick = () => {
    clock += 86_400_000;
    return new Date(clock);
  };

  iam.rejects(Object.assign(new Error('fake IAM: command not implemented'), { name: 'FakeNotImplemented' }));
  ec2?.rejects(Object.assign(new Error('fake EC2: command not implemented'), { name: 'FakeNotImplemented' }));

  const losses = lossyAnswers();
  /** Async (aws-sdk-client-mock hands a sync fake's value back as is), with scripted failures first; any call can lose its answer. */
  const guard = <I>(command: { name: string }, fn: (input: I) => unknown) =>
    losses.wrap(command, async (input: I) => {
      const queued = failures.get(command.name);
      const failure = queued?.shift();
      if (failure) throw failure;
      return fn(structuredClone(input));
    });
  const created = (key: string) => {
    if (opts.propagation) unseen.add(key);
  };
  /** NoSuchEntity once for an entity just created, as IAM answers until the create has propagated. */
  const propagated = (key: string, message: string) => {
    if (unseen.delete(key)) throw noSuchEntity(message);
  };

  // AWS managed policies exist in every account: GetPolicy and GetPolicyVersion answer for those of AWS_MANAGED_POLICIES.
  const awsManaged = new Map<string, FakePolicy>(
    Object.entries(AWS_MANAGED_POLICIES).map(([name, doc]) => {
      const arn = `arn:aws:iam::aws:policy/${name}`;
      return [
        arn,
        { name, arn, defaultVersion: 'v1', lastVersion: 1, versions: [{ id: 'v1', document: JSON.stringify(doc), created: new Date(clock) }], tags: {} },
      ];
    }),
  );
  const policy = (arn: string | undefined) => {
    const p = policies.get(arn ?? '');
    if (!p) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return p;
  };
  /** A policy that may be read: one of the account's, or an AWS managed one (which cannot be changed). */
  const readable = (arn: string | undefined) => awsManaged.get(arn ?? '') ?? policy(arn);
  const role = (name: string | undefined) => {
    const r = roles.get(name ?? '');
    if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return r;
  };
  const profile = (name: string | undefined) => {
    const p = profiles.get(name ?? '');
    if (!p) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
    return p;
  };
  const principal = (kind: 'user' | 'group', name: string | undefined) => {
    const p = (kind === 'user' ? users : groups).get(name ?? '');
    if (!p) throw noSuchEntity(`The ${kind} with name ${name} cannot be found.`);
    return p;
  };
  /** A managed policy that may be attached: one of ours, or any AWS managed one. */
  const attachable = (arn: string | undefined) => {
    if (AWS_MANAGED.test(arn ?? '')) return arn!;
    const p = policy(arn);
    propagated(`policy:${p.arn}`, `Policy ${arn} does not exist or is not attachable.`);
    return p.arn;
  };
  /** Attaching is idempotent; a new one beyond the quota is LimitExceeded (which the SDK retries as throttling). */
  const attachTo = (attached: Set<string>, arn: string, quota: 'Role' | 'User' | 'Group') => {
    const limit = quotas[quota.toLowerCase() as keyof FakeQuotas];
    if (!attached.has(arn) && attached.size >= limit) throw limitExceeded(`Cannot exceed quota for PoliciesPer${quota}: ${limit}`);
    attached.add(arn);
  };
  const attachedList = (arns: Set<string>, input: { Marker?: string; MaxItems?: number }) => {
    const { items, ...rest } = page([...arns], input, pageSize);
    return { AttachedPolicies: items.map((PolicyArn) => ({ PolicyArn, PolicyName: lastSegment(PolicyArn) })), ...rest };
  };
  const profileView = (p: FakeProfile) => ({
    InstanceProfileName: p.name,
    Arn: p.arn,
    Path: '/',
    InstanceProfileId: `AIPA${p.name.toUpperCase()}`,
    CreateDate: new Date(clock),
    Roles: p.roles.map((r) => ({ RoleName: r, Arn: roleArnOf(r), Path: '/', RoleId: `AROA${r.toUpperCase()}`, CreateDate: new Date(clock) })),
    Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })),
  });

  // The account: usage and quotas.
  iam.on(GetAccountSummaryCommand).callsFake(
    guard(GetAccountSummaryCommand, () => ({
      SummaryMap: {
        AttachedPoliciesPerRoleQuota: quotas.role,
        AttachedPoliciesPerUserQuota: quotas.user,
        AttachedPoliciesPerGroupQuota: quotas.group,
        PolicySizeQuota: IAM_LIMITS.policySize,
        VersionsPerPolicyQuota: IAM_LIMITS.versions,
        Policies: policies.size,
        PoliciesQuota: 1500,
        Roles: roles.size,
        RolesQuota: 1000,
        InstanceProfiles: profiles.size,
        Users: users.size,
        Groups: groups.size,
      },
    })),
  );

  // Policies and their versions.
  iam.on(GetPolicyCommand).callsFake(
    guard(GetPolicyCommand, (i: { PolicyArn?: string }) => {
      const p = readable(i.PolicyArn);
      return {
        Policy: {
          PolicyName: p.name,
          Arn: p.arn,
          DefaultVersionId: p.defaultVersion,
          Path: '/',
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      };
    }),
  );
  iam.on(GetPolicyVersionCommand).callsFake(
    guard(GetPolicyVersionCommand, (i: { PolicyArn?: string; VersionId?: string }) => {
      const p = readable(i.PolicyArn);
      const v = p.versions.find((x) => x.id === i.VersionId);
      if (!v) throw noSuchEntity(`Policy ${p.arn} version ${i.VersionId} does not exist or is not attachable.`);
      // Real IAM returns the document URL-encoded (RFC 3986).
      return {
        PolicyVersion: { Document: encodeURIComponent(v.document), VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created },
      };
    }),
  );
  iam.on(ListPolicyVersionsCommand).callsFake(
    guard(ListPolicyVersionsCommand, (i: { PolicyArn?: string; Marker?: string; MaxItems?: number }) => {
      const p = readable(i.PolicyArn);
      // Newest first, without documents, as IAM lists them.
      const { items, ...rest } = page([...p.versions].reverse(), i, pageSize);
      return { Versions: items.map((v) => ({ VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created })), ...rest };
    }),
  );
  iam.on(CreatePolicyCommand).callsFake(
    guard(CreatePolicyCommand, (i: { PolicyName?: string; PolicyDocument?: string; Description?: string; Tags?: Tag[] }) => {
      checkName('policyName', i.PolicyName, 128);
      checkDescription(i.Description);
      checkTags(i.Tags);
      const arn = policyArnOf(i.PolicyName ?? '');
      if (policies.has(arn)) throw alreadyExists(`A policy called ${i.PolicyName} already exists. Duplicate names are not allowed.`);
      checkDocument(i.PolicyDocument);
      const p: FakePolicy = {
        name: i.PolicyName!,
        arn,
        defaultVersion: 'v1',
        lastVersion: 1,
        versions: [{ id: 'v1', document: i.PolicyDocument!, created: tick() }],
        tags: tagMap(i.Tags),
        description: i.Description,
      };
      policies.set(arn, p);
      created(`policy:${arn}`);
      return { Policy: { PolicyName: p.name, Arn: arn, DefaultVersionId: 'v1', Path: '/' } };
    }),
  );
  iam.on(CreatePolicyVersionCommand).callsFake(
    guard(CreatePolicyVersionCommand, (i: { PolicyArn?: string; PolicyDocument?: string; SetAsDefault?: boolean }) => {
      const p = policy(i.PolicyArn);
      if (p.versions.length >= IAM_LIMITS.versions) {
        throw limitExceeded('A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
      }
      checkDocument(i.PolicyDocument);
      const v = { id: `v${++p.lastVersion}`, document: i.PolicyDocument!, created: tick() };
      p.versions.push(v);
      if (i.SetAsDefault) p.defaultVersion = v.id;
      return { PolicyVersion: { VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created } };
    }),
  );
  iam.on(DeletePolicyVersionCommand).callsFake(
    guard(DeletePolicyVersionCommand, (i: { PolicyArn?: string; VersionId?: string }) => {
      const p = policy(i.PolicyArn);
      if (!p.versions.some((v) => v.id === i.VersionId)) throw noSuchEntity(`Policy ${p.arn} version ${i.VersionId} does not exist.`);
      if (i.VersionId === p.defaultVersion)
        throw new DeleteConflictException({ message: 'Cannot delete the default version of a policy.', $metadata: { httpStatusCode: 409 } });
      p.versions = p.versions.filter((v) => v.id !== i.VersionId);
      return {};
    }),
  );

  // Roles.
  iam.on(GetRoleCommand).callsFake(
    guard(GetRoleCommand, (i: { RoleName?: string }) => {
      const r = role(i.RoleName);
      return {
        Role: {
          RoleName: r.name,
          Arn: r.arn,
          Path: '/',
          RoleId: `AROA${r.name.toUpperCase()}`,
          CreateDate: new Date(clock),
          AssumeRolePolicyDocument: encodeURIComponent(r.trust),
          Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      };
    }),
  );
  iam.on(CreateRoleCommand).callsFake(
    guard(CreateRoleCommand, (i: { RoleName?: string; AssumeRolePolicyDocument?: string; Description?: string; Tags?: Tag[] }) => {
      checkName('roleName', i.RoleName, 64);
      checkDescription(i.Description);
      checkTags(i.Tags);
      checkDocument(i.AssumeRolePolicyDocument, { size: IAM_LIMITS.trustPolicySize, quota: 'ACLSizePerRole' });
      const name = i.RoleName ?? '';
      if (roles.has(name)) throw alreadyExists(`Role with name ${name} already exists.`);
      const r: FakeRole = { name, arn: roleArnOf(name), trust: i.AssumeRolePolicyDocument ?? '', attached: new Set(), tags: tagMap(i.Tags) };
      roles.set(name, r);
      created(`role:${name}`);
      return { Role: { RoleName: name, Arn: r.arn, Path: '/', RoleId: `AROA${name.toUpperCase()}`, CreateDate: tick() } };
    }),
  );
  iam
    .on(ListAttachedRolePoliciesCommand)
    .callsFake(
      guard(ListAttachedRolePoliciesCommand, (i: { RoleName?: string; Marker?: string; MaxItems?: number }) => attachedList(role(i.RoleName).attached, i)),
    );
  iam.on(AttachRolePolicyCommand).callsFake(
    guard(AttachRolePolicyCommand, (i: { RoleName?: string; PolicyArn?: string }) => {
      const r = role(i.RoleName);
      propagated(`role:${r.name}`, `The role with name ${r.name} cannot be found.`);
      attachTo(r.attached, attachable(i.PolicyArn), 'Role');
      return {};
    }),
  );

  // Instance profiles.
  iam
    .on(GetInstanceProfileCommand)
    .callsFake(guard(GetInstanceProfileCommand, (i: { InstanceProfileName?: string }) => ({ InstanceProfile: profileView(profile(i.InstanceProfileName)) })));
  iam.on(CreateInstanceProfileCommand).callsFake(
    guard(CreateInstanceProfileCommand, (i: { InstanceProfileName?: string; Tags?: Tag[] }) => {
      checkName('instanceProfileName', i.InstanceProfileName, 128);
      checkTags(i.Tags);
      const name = i.InstanceProfileName ?? '';
      if (profiles.has(name)) throw alreadyExists(`Instance Profile ${name} already exists.`);
      const p: FakeProfile = { name, arn: profileArnOf(name), roles: [], tags: tagMap(i.Tags), created: true };
      profiles.set(name, p);
      created(`profile:${name}`);
      return { InstanceProfile: profileView(p) };
    }),
  );
  iam.on(AddRoleToInstanceProfileCommand).callsFake(
    guard(AddRoleToInstanceProfileCommand, (i: { InstanceProfileName?: string; RoleName?: string }) => {
      const p = profile(i.InstanceProfileName);
      const r = role(i.RoleName);
      propagated(`profile:${p.name}`, `Instance Profile ${p.name} cannot be found.`);
      propagated(`role:${r.name}`, `The role with name ${r.name} cannot be found.`);
      if (p.roles.length) throw limitExceeded('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
      p.roles.push(r.name);
      return {};
    }),
  );

  // Inline policies (none) and the policy simulator (denied).
  iam.on(ListRolePoliciesCommand).callsFake(
    guard(ListRolePoliciesCommand, (i: { RoleName?: string; Marker?: string; MaxItems?: number }) => {
      role(i.RoleName);
      return { PolicyNames: [], IsTruncated: false };
    }),
  );
  iam.on(ListUserPoliciesCommand).callsFake(
    guard(ListUserPoliciesCommand, (i: { UserName?: string }) => {
      principal('user', i.UserName);
      return { PolicyNames: [], IsTruncated: false };
    }),
  );
  iam.on(ListGroupsForUserCommand).callsFake(
    guard(ListGroupsForUserCommand, (i: { UserName?: string }) => {
      principal('user', i.UserName);
      return { Groups: [], IsTruncated: false };
    }),
  );
  iam.on(SimulatePrincipalPolicyCommand).callsFake(
    guard(SimulatePrincipalPolicyCommand, () => {
      throw new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'User is not authorized to perform: iam:SimulatePrincipalPolicy',
        $metadata: { httpStatusCode: 403 },
      });
    }),
  );

  // Users and groups.
  iam
    .on(ListAttachedUserPoliciesCommand)
    .callsFake(
      guard(ListAttachedUserPoliciesCommand, (i: { UserName?: string; Marker?: string; MaxItems?: number }) =>
        attachedList(principal('user', i.UserName).attached, i),
      ),
    );
  iam
    .on(ListAttachedGroupPoliciesCommand)
    .callsFake(
      guard(ListAttachedGroupPoliciesCommand, (i: { GroupName?: string; Marker?: string; MaxItems?: number }) =>
        attachedList(principal('group', i.GroupName).attached, i),
      ),
    );
  iam.on(AttachUserPolicyCommand).callsFake(
    guard(AttachUserPolicyCommand, (i: { UserName?: string; PolicyArn?: string }) => {
      const u = principal('user', i.UserName);
      attachTo(u.attached, attachable(i.PolicyArn), 'User');
      return {};
    }),
  );
  iam.on(AttachGroupPolicyCommand).callsFake(
    guard(AttachGroupPolicyCommand, (i: { GroupName?: string; PolicyArn?: string }) => {
      const g = principal('group', i.GroupName);
      attachTo(g.attached, attachable(i.PolicyArn), 'Group');
      return {};
    }),
  );
  iam.on(ListUsersCommand).callsFake(
    guard(ListUsersCommand, (i: { Marker?: string; MaxItems?: number }) => {
      const { items, ...rest } = page([...users.keys()], i, pageSize);
      return {
        Users: items.map((UserName) => ({
          UserName,
          Arn: `arn:aws:iam::${ACCOUNT}:user/${UserName}`,
          Path: '/',
          UserId: `AIDA${UserName.toUpperCase()}`,
          CreateDate: new Date(clock),
        })),
        ...rest,
      };
    }),
  );
  iam.on(ListGroupsCommand).callsFake(
    guard(ListGroupsCommand, (i: { Marker?: string; MaxItems?: number }) => {
      const { items, ...rest } = page([...groups.keys()], i, pageSize);
      return {
        Groups: items.map((GroupName) => ({
          GroupName,
          Arn: `arn:aws:iam::${ACCOUNT}:group/${GroupName}`,
          Path: '/',
          GroupId: `AGPA${GroupName.toUpperCase()}`,
          CreateDate: new Date(clock),
        })),
        ...rest,
      };
    }),
  );

  // EC2: instance profile associations, one live association per instance.
  const matches = (a: FakeAssociation, filters: readonly Filter[]) =>
    filters.every((f) => {
      const value = f.Name === 'instance-id' ? a.instanceId : f.Name === 'state' ? a.state : undefined;
      if (value === undefined) throw ec2Error('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
      return (f.Values ?? []).includes(value);
    });
  const associationView = (a: FakeAssociation) => ({
    AssociationId: a.id,
    InstanceId: a.instanceId,
    IamInstanceProfile: { Arn: a.profileArn, Id: `AIPA${lastSegment(a.profileArn).toUpperCase()}` },
    State: a.state,
  });
  ec2?.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
    guard(DescribeIamInstanceProfileAssociationsCommand, (i: { AssociationIds?: string[]; Filters?: Filter[] }) => ({
      IamInstanceProfileAssociations: [...associations.values()]
        .filter((a) => !i.AssociationIds?.length || i.AssociationIds.includes(a.id))
        .filter((a) => matches(a, i.Filters ?? []))
        .map(associationView),
    })),
  );
  ec2?.on(AssociateIamInstanceProfileCommand).callsFake(
    guard(AssociateIamInstanceProfileCommand, (i: { InstanceId?: string; IamInstanceProfile?: { Name?: string; Arn?: string } }) => {
      const instanceId = i.InstanceId ?? '';
      const live = [...associations.values()].find((a) => a.instanceId === instanceId && (a.state === 'associating' || a.state === 'associated'));
      if (live) throw ec2Error('IncorrectState', `There is an existing association for instance ${instanceId}`);
      const name = i.IamInstanceProfile?.Name ?? lastSegment(i.IamInstanceProfile?.Arn ?? '');
      const p = profiles.get(name);
      if (!p) throw ec2Error('InvalidParameterValue', `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
      const a: FakeAssociation = { id: `iip-assoc-${String(++associationCount).padStart(17, '0')}`, instanceId, profileArn: p.arn, state: 'associating' };
      associations.set(a.id, a);
      return { IamInstanceProfileAssociation: associationView(a) };
    }),
  );

  // EC2: tags on instances (ssm-setup records the profiles it associates), 50 per instance.
  const instanceTags = new Map<string, Record<string, string>>();
  ec2?.on(CreateTagsCommand).callsFake(
    guard(CreateTagsCommand, (i: CreateTagsCommandInput) => {
      const ids = i.Resources ?? [];
      if (!ids.length || ids.length > 1000) throw ec2Error('InvalidParameterValue', 'CreateTags takes 1 to 1000 resources');
      const next = ids.map((id) => ({ ...instanceTags.get(id), ...Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) }));
      const full = ids.find((_, n) => Object.keys(next[n]!).length > 50);
      if (full) throw ec2Error('TagLimitExceeded', `The maximum number of tags for ${full} is 50`);
      for (const [n, id] of ids.entries()) instanceTags.set(id, next[n]!);
      return {};
    }),
  );

  /** Every call to either client, in the order they were made. */
  const calls = () => [...iam.calls(), ...(ec2?.calls() ?? [])].sort((a, b) => (a.calledBefore(b) ? -1 : 1)).map((c) => (c.args[0] as object).constructor.name);

  return {
    iam,
    ec2,
    policies,
    roles,
    profiles,
    users,
    groups,
    associations,
    /** EC2 tags of instances, set by CreateTags (the EC2 side of this fake knows no other instance data). */
    instanceTags,
    /** The managed-policy quotas per role, user and group; a test may change them. */
    quotas,
    /** A customer managed policy with these versions (oldest first); the last is the default unless `defaultVersion` says otherwise. */
    addPolicy(
      name: string,
      documents: readonly (PolicyDocument | string)[],
      opts: { defaultVersion?: string; tags?: Record<string, string> } = {},
    ): FakePolicy {
      const versions = documents.map((d, n) => ({ id: `v${n + 1}`, document: asText(d), created: tick() }));
      const p: FakePolicy = {
        name,
        arn: policyArnOf(name),
        versions,
        lastVersion: versions.length,
        defaultVersion: opts.defaultVersion ?? `v${versions.length}`,
        tags: opts.tags ?? {},
      };
      policies.set(p.arn, p);
      return p;
    },
    /** The default version's document, parsed. */
    defaultDocument(name: string): unknown {
      const p = policy(policyArnOf(name));
      return JSON.parse(p.versions.find((v) => v.id === p.defaultVersion)!.document);
    },
    addRole(name: string, attached: readonly string[] = []): FakeRole {
      const r: FakeRole = { name, arn: roleArnOf(name), trust: '{}', attached: new Set(attached), tags: {} };
      roles.set(name, r);
      return r;
    },
    addProfile(name: string, roleNames: readonly string[] = []): FakeProfile {
      const p: FakeProfile = { name, arn: profileArnOf(name), roles: [...roleNames], tags: {} };
      profiles.set(name, p);
      return p;
    },
    addUser(name: string, attached: readonly string[] = []) {
      users.set(name, { attached: new Set(attached) });
    },
    addGroup(name: string, attached: readonly string[] = []) {
      groups.set(name, { attached: new Set(attached) });
    },
    /** An association made outside the step (another tool, an earlier run). */
    addAssociation(instanceId: string, profileName: string, state: IamInstanceProfileAssociationState = 'associated'): FakeAssociation {
      const a: FakeAssociation = { id: `iip-assoc-${String(++associationCount).padStart(17, '0')}`, instanceId, profileArn: profileArnOf(profileName), state };
      associations.set(a.id, a);
      return a;
    },
    /** The live association of an instance, if any. */
    associationOf: (instanceId: string) =>
      [...associations.values()].find((a) => a.instanceId === instanceId && (a.state === 'associating' || a.state === 'associated')),
    /**
     * The next call(s) of `command` (IAM or EC2) are carried out, then their answer is lost (a
     * reset connection, or a 500): see test/helpers/lost-answer.ts for what the client then sees.
     */
    loseAnswerOnce: (command: { name: string }, opts?: LossOptions) => losses.lose(command, opts),
    /** Requests of `command` that reached the fake, the SDK's retries included. */
    attempts: (command: { name: string }) => losses.attempts(command),
    /** The next `times` calls of `command` fail with `error` before the fake answers again. */
    failNext(command: { name: string }, error: Error, times = 1) {
      failures.set(command.name, [...(failures.get(command.name) ?? []), ...Array.from({ length: times }, () => error)]);
    },
    calls,
    /** Write calls made so far to IAM and EC2 (CreatePolicy, AttachRolePolicy, AssociateIamInstanceProfile, …), in order. */
    writes: () => calls().filter(isWriteCall),
    restore() {
      iam.restore();
      ec2?.restore();
    },
  };
}

export type FakeIam = ReturnType<typeof fakeIam>;

/** `n` AWS managed policy ARNs that are not ssm-setup's, to fill a role, user or group up to its quota. */
export const otherPolicies = (n: number) => Array.from({ length: n }, (_, k) => `arn:aws:iam::aws:policy/OtherPolicy${k + 1}`);
