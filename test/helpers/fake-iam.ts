import {
  AssociateIamInstanceProfileCommand,
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
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  LimitExceededException,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsCommand,
  ListPolicyVersionsCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  type Tag,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { ACCOUNT } from './fixtures.js';

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

export const policyArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:policy/${name}`;
export const roleArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const profileArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
const AWS_MANAGED = /^arn:aws:iam::aws:policy\//;

const meta = { $metadata: { httpStatusCode: 400 } };
const noSuchEntity = (message: string) => new NoSuchEntityException({ message, $metadata: { httpStatusCode: 404 } });
const alreadyExists = (message: string) => new EntityAlreadyExistsException({ message, ...meta });
const limitExceeded = (message: string) => new LimitExceededException({ message, $metadata: { httpStatusCode: 409 } });
/** EC2 errors carry only a code as their name (the query protocol has no modelled exceptions). */
export const ec2Error = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $fault: 'client' as const, ...meta });

const tagMap = (tags: readonly Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const asText = (doc: PolicyDocument | string) => (typeof doc === 'string' ? doc : JSON.stringify(doc));
const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * A small stateful IAM (plus the two EC2 calls for instance profile associations) behind
 * aws-sdk-client-mock, enough to prove that instance-role and operator-policy converge: apply,
 * then read again, and the plan is empty. It enforces the IAM rules the steps must respect:
 * five versions per policy (LimitExceeded), the default version cannot be deleted
 * (DeleteConflict), one role per instance profile (LimitExceeded), one association per
 * instance (IncorrectState), attaching needs the policy and the role to exist. Commands it does
 * not implement are rejected, so an unexpected call fails the test instead of answering `{}`.
 */
export function fakeIam() {
  const iam = mockClient(IAMClient);
  const ec2 = mockClient(EC2Client);
  const policies = new Map<string, FakePolicy>(); // by ARN
  const roles = new Map<string, FakeRole>();
  const profiles = new Map<string, FakeProfile>();
  const users = new Map<string, FakePrincipal>();
  const groups = new Map<string, FakePrincipal>();
  const associations = new Map<string, FakeAssociation>(); // by association id
  const failures = new Map<string, Error[]>();
  let clock = Date.UTC(2024, 0, 1);
  let associationCount = 0;
  const tick = () => new Date((clock += 86_400_000));

  iam.rejects(Object.assign(new Error('fake IAM: command not implemented'), { name: 'FakeNotImplemented' }));
  ec2.rejects(Object.assign(new Error('fake EC2: command not implemented'), { name: 'FakeNotImplemented' }));

  /** Async (aws-sdk-client-mock hands a sync fake's value back as is), with scripted failures first. */
  const guard = <I>(command: { name: string }, fn: (input: I) => unknown) => async (input: I) => {
    const queued = failures.get(command.name);
    const failure = queued?.shift();
    if (failure) throw failure;
    return fn(structuredClone(input));
  };

  const policy = (arn: string | undefined) => {
    const p = policies.get(arn ?? '');
    if (!p) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return p;
  };
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
    return policy(arn).arn;
  };
  const checkDocument = (doc: string | undefined) => {
    try {
      const parsed = JSON.parse(doc ?? '') as { Version?: string; Statement?: unknown };
      if (parsed.Version !== '2012-10-17' || !parsed.Statement) throw new Error('bad');
    } catch {
      throw new MalformedPolicyDocumentException({ message: 'Syntax errors in policy.', ...meta });
    }
  };
  const attachedList = (arns: Set<string>) => ({
    AttachedPolicies: [...arns].map((PolicyArn) => ({ PolicyArn, PolicyName: lastSegment(PolicyArn) })),
    IsTruncated: false,
  });
  const profileView = (p: FakeProfile) => ({
    InstanceProfileName: p.name,
    Arn: p.arn,
    Path: '/',
    InstanceProfileId: `AIPA${p.name.toUpperCase()}`,
    CreateDate: new Date(clock),
    Roles: p.roles.map((r) => ({ RoleName: r, Arn: roleArnOf(r), Path: '/', RoleId: `AROA${r.toUpperCase()}`, CreateDate: new Date(clock) })),
  });

  // Policies and their versions.
  iam.on(GetPolicyCommand).callsFake(guard(GetPolicyCommand, (i: { PolicyArn?: string }) => {
    const p = policy(i.PolicyArn);
    return { Policy: { PolicyName: p.name, Arn: p.arn, DefaultVersionId: p.defaultVersion, Path: '/', Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })) } };
  }));
  iam.on(GetPolicyVersionCommand).callsFake(guard(GetPolicyVersionCommand, (i: { PolicyArn?: string; VersionId?: string }) => {
    const p = policy(i.PolicyArn);
    const v = p.versions.find((x) => x.id === i.VersionId);
    if (!v) throw noSuchEntity(`Policy ${p.arn} version ${i.VersionId} does not exist or is not attachable.`);
    // Real IAM returns the document URL-encoded (RFC 3986).
    return { PolicyVersion: { Document: encodeURIComponent(v.document), VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created } };
  }));
  iam.on(ListPolicyVersionsCommand).callsFake(guard(ListPolicyVersionsCommand, (i: { PolicyArn?: string }) => {
    const p = policy(i.PolicyArn);
    // Newest first, without documents, as IAM lists them.
    const Versions = [...p.versions].reverse().map((v) => ({ VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created }));
    return { Versions, IsTruncated: false };
  }));
  iam.on(CreatePolicyCommand).callsFake(guard(CreatePolicyCommand, (i: { PolicyName?: string; PolicyDocument?: string; Description?: string; Tags?: Tag[] }) => {
    const arn = policyArnOf(i.PolicyName ?? '');
    if (policies.has(arn)) throw alreadyExists(`A policy called ${i.PolicyName} already exists. Duplicate names are not allowed.`);
    checkDocument(i.PolicyDocument);
    const p: FakePolicy = { name: i.PolicyName!, arn, defaultVersion: 'v1', lastVersion: 1, versions: [{ id: 'v1', document: i.PolicyDocument!, created: tick() }], tags: tagMap(i.Tags), description: i.Description };
    policies.set(arn, p);
    return { Policy: { PolicyName: p.name, Arn: arn, DefaultVersionId: 'v1', Path: '/' } };
  }));
  iam.on(CreatePolicyVersionCommand).callsFake(guard(CreatePolicyVersionCommand, (i: { PolicyArn?: string; PolicyDocument?: string; SetAsDefault?: boolean }) => {
    const p = policy(i.PolicyArn);
    if (p.versions.length >= 5) {
      throw limitExceeded('A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
    }
    checkDocument(i.PolicyDocument);
    const v = { id: `v${++p.lastVersion}`, document: i.PolicyDocument!, created: tick() };
    p.versions.push(v);
    if (i.SetAsDefault) p.defaultVersion = v.id;
    return { PolicyVersion: { VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.created } };
  }));
  iam.on(DeletePolicyVersionCommand).callsFake(guard(DeletePolicyVersionCommand, (i: { PolicyArn?: string; VersionId?: string }) => {
    const p = policy(i.PolicyArn);
    if (!p.versions.some((v) => v.id === i.VersionId)) throw noSuchEntity(`Policy ${p.arn} version ${i.VersionId} does not exist.`);
    if (i.VersionId === p.defaultVersion) throw new DeleteConflictException({ message: 'Cannot delete the default version of a policy.', $metadata: { httpStatusCode: 409 } });
    p.versions = p.versions.filter((v) => v.id !== i.VersionId);
    return {};
  }));

  // Roles.
  iam.on(GetRoleCommand).callsFake(guard(GetRoleCommand, (i: { RoleName?: string }) => {
    const r = role(i.RoleName);
    return { Role: { RoleName: r.name, Arn: r.arn, Path: '/', RoleId: `AROA${r.name.toUpperCase()}`, CreateDate: new Date(clock), AssumeRolePolicyDocument: encodeURIComponent(r.trust) } };
  }));
  iam.on(CreateRoleCommand).callsFake(guard(CreateRoleCommand, (i: { RoleName?: string; AssumeRolePolicyDocument?: string; Tags?: Tag[] }) => {
    const name = i.RoleName ?? '';
    if (roles.has(name)) throw alreadyExists(`Role with name ${name} already exists.`);
    const r: FakeRole = { name, arn: roleArnOf(name), trust: i.AssumeRolePolicyDocument ?? '', attached: new Set(), tags: tagMap(i.Tags) };
    roles.set(name, r);
    return { Role: { RoleName: name, Arn: r.arn, Path: '/', RoleId: `AROA${name.toUpperCase()}`, CreateDate: tick() } };
  }));
  iam.on(ListAttachedRolePoliciesCommand).callsFake(guard(ListAttachedRolePoliciesCommand, (i: { RoleName?: string }) => attachedList(role(i.RoleName).attached)));
  iam.on(AttachRolePolicyCommand).callsFake(guard(AttachRolePolicyCommand, (i: { RoleName?: string; PolicyArn?: string }) => {
    const r = role(i.RoleName);
    r.attached.add(attachable(i.PolicyArn));
    return {};
  }));

  // Instance profiles.
  iam.on(GetInstanceProfileCommand).callsFake(guard(GetInstanceProfileCommand, (i: { InstanceProfileName?: string }) => ({ InstanceProfile: profileView(profile(i.InstanceProfileName)) })));
  iam.on(CreateInstanceProfileCommand).callsFake(guard(CreateInstanceProfileCommand, (i: { InstanceProfileName?: string; Tags?: Tag[] }) => {
    const name = i.InstanceProfileName ?? '';
    if (profiles.has(name)) throw alreadyExists(`Instance Profile ${name} already exists.`);
    const p: FakeProfile = { name, arn: profileArnOf(name), roles: [], tags: tagMap(i.Tags) };
    profiles.set(name, p);
    return { InstanceProfile: profileView(p) };
  }));
  iam.on(AddRoleToInstanceProfileCommand).callsFake(guard(AddRoleToInstanceProfileCommand, (i: { InstanceProfileName?: string; RoleName?: string }) => {
    const p = profile(i.InstanceProfileName);
    const r = role(i.RoleName);
    if (p.roles.length) throw limitExceeded('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
    p.roles.push(r.name);
    return {};
  }));

  // Users and groups.
  iam.on(ListAttachedUserPoliciesCommand).callsFake(guard(ListAttachedUserPoliciesCommand, (i: { UserName?: string }) => attachedList(principal('user', i.UserName).attached)));
  iam.on(ListAttachedGroupPoliciesCommand).callsFake(guard(ListAttachedGroupPoliciesCommand, (i: { GroupName?: string }) => attachedList(principal('group', i.GroupName).attached)));
  iam.on(AttachUserPolicyCommand).callsFake(guard(AttachUserPolicyCommand, (i: { UserName?: string; PolicyArn?: string }) => {
    principal('user', i.UserName).attached.add(attachable(i.PolicyArn));
    return {};
  }));
  iam.on(AttachGroupPolicyCommand).callsFake(guard(AttachGroupPolicyCommand, (i: { GroupName?: string; PolicyArn?: string }) => {
    principal('group', i.GroupName).attached.add(attachable(i.PolicyArn));
    return {};
  }));
  iam.on(ListUsersCommand).callsFake(guard(ListUsersCommand, () => ({
    Users: [...users.keys()].map((UserName) => ({ UserName, Arn: `arn:aws:iam::${ACCOUNT}:user/${UserName}`, Path: '/', UserId: `AIDA${UserName.toUpperCase()}`, CreateDate: new Date(clock) })),
    IsTruncated: false,
  })));
  iam.on(ListGroupsCommand).callsFake(guard(ListGroupsCommand, () => ({
    Groups: [...groups.keys()].map((GroupName) => ({ GroupName, Arn: `arn:aws:iam::${ACCOUNT}:group/${GroupName}`, Path: '/', GroupId: `AGPA${GroupName.toUpperCase()}`, CreateDate: new Date(clock) })),
    IsTruncated: false,
  })));

  // EC2: instance profile associations, one live association per instance.
  const matches = (a: FakeAssociation, filters: readonly Filter[]) =>
    filters.every((f) => {
      const value = f.Name === 'instance-id' ? a.instanceId : f.Name === 'state' ? a.state : undefined;
      if (value === undefined) throw ec2Error('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
      return (f.Values ?? []).includes(value);
    });
  const associationView = (a: FakeAssociation) => ({ AssociationId: a.id, InstanceId: a.instanceId, IamInstanceProfile: { Arn: a.profileArn, Id: `AIPA${lastSegment(a.profileArn).toUpperCase()}` }, State: a.state });
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(guard(DescribeIamInstanceProfileAssociationsCommand, (i: { AssociationIds?: string[]; Filters?: Filter[] }) => ({
    IamInstanceProfileAssociations: [...associations.values()]
      .filter((a) => !i.AssociationIds?.length || i.AssociationIds.includes(a.id))
      .filter((a) => matches(a, i.Filters ?? []))
      .map(associationView),
  })));
  ec2.on(AssociateIamInstanceProfileCommand).callsFake(guard(AssociateIamInstanceProfileCommand, (i: { InstanceId?: string; IamInstanceProfile?: { Name?: string; Arn?: string } }) => {
    const instanceId = i.InstanceId ?? '';
    const live = [...associations.values()].find((a) => a.instanceId === instanceId && (a.state === 'associating' || a.state === 'associated'));
    if (live) throw ec2Error('IncorrectState', `There is an existing association for instance ${instanceId}`);
    const name = i.IamInstanceProfile?.Name ?? lastSegment(i.IamInstanceProfile?.Arn ?? '');
    const p = profiles.get(name);
    if (!p) throw ec2Error('InvalidParameterValue', `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
    const a: FakeAssociation = { id: `iip-assoc-${String(++associationCount).padStart(17, '0')}`, instanceId, profileArn: p.arn, state: 'associating' };
    associations.set(a.id, a);
    return { IamInstanceProfileAssociation: associationView(a) };
  }));

  /** Every call to either client, in the order they were made. */
  const calls = () =>
    [...iam.calls(), ...ec2.calls()]
      .sort((a, b) => (a.calledBefore(b) ? -1 : 1))
      .map((c) => (c.args[0] as object).constructor.name);

  return {
    iam,
    ec2,
    policies,
    roles,
    profiles,
    users,
    groups,
    associations,
    /** A customer managed policy with these versions (oldest first); the last is the default unless `defaultVersion` says otherwise. */
    addPolicy(name: string, documents: readonly (PolicyDocument | string)[], opts: { defaultVersion?: string; tags?: Record<string, string> } = {}): FakePolicy {
      const versions = documents.map((d, n) => ({ id: `v${n + 1}`, document: asText(d), created: tick() }));
      const p: FakePolicy = { name, arn: policyArnOf(name), versions, lastVersion: versions.length, defaultVersion: opts.defaultVersion ?? `v${versions.length}`, tags: opts.tags ?? {} };
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
    associationOf: (instanceId: string) => [...associations.values()].find((a) => a.instanceId === instanceId && (a.state === 'associating' || a.state === 'associated')),
    /** The next `times` calls of `command` fail with `error` before the fake answers again. */
    failNext(command: { name: string }, error: Error, times = 1) {
      failures.set(command.name, [...(failures.get(command.name) ?? []), ...Array.from({ length: times }, () => error)]);
    },
    calls,
    /** Write calls made so far to IAM and EC2 (CreatePolicy, AttachRolePolicy, AssociateIamInstanceProfile, …), in order. */
    writes: () => calls().filter(isWriteCall),
    restore() {
      iam.restore();
      ec2.restore();
    },
  };
}

export type FakeIam = ReturnType<typeof fakeIam>;
