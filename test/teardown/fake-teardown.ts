import { DeleteTagsCommand, type DeleteTagsCommandInput, DisassociateIamInstanceProfileCommand } from '@aws-sdk/client-ec2';
import {
  DeleteConflictException,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  ListEntitiesForPolicyCommand,
  ListPolicyTagsCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { DeleteAliasCommand, NotFoundException } from '@aws-sdk/client-kms';
import { DeleteDocumentCommand, InvalidDocument, InvalidResourceId, RemoveTagsFromResourceCommand } from '@aws-sdk/client-ssm';
import { readTeardown } from '../../src/teardown/index.js';
import type { Teardown, TeardownContext } from '../../src/teardown/types.js';
import { type FakeAccountOptions, fakeAccount } from '../helpers/fake-account.js';
import { ec2Error } from '../helpers/fake-ec2.js';
import { IDENTITY, REGION, settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const meta = { $metadata: { httpStatusCode: 400 } };
const noSuchEntity = (message: string) => new NoSuchEntityException({ message, $metadata: { httpStatusCode: 404 } });
const conflict = (message: string) => new DeleteConflictException({ message, $metadata: { httpStatusCode: 409 } });
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * fakeAccount (test/helpers/fake-account.ts) with the calls only `destroy` makes, answered from
 * the same state and as strictly as AWS (they belong in the shared fakes; kept here until they
 * move there):
 * - IAM: inline role policies
 *   (`putInline`, ListRolePolicies, DeleteRolePolicy); ListPolicyTags; ListEntitiesForPolicy;
 *   the Detach calls (NoSuchEntity when not attached); DeletePolicy, DeleteRole and
 *   DeleteInstanceProfile refuse with DeleteConflict while something is attached, inline, in a
 *   profile, or while non-default policy versions remain; RemoveRoleFromInstanceProfile.
 * - KMS: DeleteAlias (ScheduleKeyDeletion is fake-kms's).
 * - SSM: RemoveTagsFromResource of a `Document` (by name); DeleteDocument. (Associations' tags
 *   and DeleteAssociation are fake-fleet's.)
 * - EC2: DisassociateIamInstanceProfile (the instance shows no profile after it); DeleteTags on
 *   instances (1 to 1000 resources; a tag given with a value goes only when the value matches).
 */
export function teardownAccount(opts: FakeAccountOptions = {}) {
  const account = fakeAccount(opts);
  const { iam, kms, fleet, ssm, ec2 } = account;
  const inline = new Map<string, Map<string, string>>();
  const role = (name: string | undefined) => {
    const r = iam.roles.get(name ?? '');
    if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return r;
  };
  const profile = (name: string | undefined) => {
    const p = iam.profiles.get(name ?? '');
    if (!p) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
    return p;
  };
  const policy = (arn: string | undefined) => {
    const p = iam.policies.get(arn ?? '');
    if (!p) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return p;
  };
  const detach = (attached: Set<string> | undefined, what: string, arn: string | undefined) => {
    if (!attached) throw noSuchEntity(`The ${what} cannot be found.`);
    if (!attached.delete(arn ?? '')) throw noSuchEntity(`Policy ${arn} was not found.`);
    return {};
  };
  const holders = (arn: string) => ({
    PolicyRoles: [...iam.roles.values()].filter((r) => r.attached.has(arn)).map((r) => ({ RoleName: r.name })),
    PolicyUsers: [...iam.users].filter(([, u]) => u.attached.has(arn)).map(([UserName]) => ({ UserName })),
    PolicyGroups: [...iam.groups].filter(([, g]) => g.attached.has(arn)).map(([GroupName]) => ({ GroupName })),
  });

  iam.iam.on(ListRolePoliciesCommand).callsFake(async (i) => ({ PolicyNames: [...(inline.get(role(i.RoleName).name)?.keys() ?? [])], IsTruncated: false }));
  iam.iam.on(DeleteRolePolicyCommand).callsFake(async (i) => {
    if (!inline.get(role(i.RoleName).name)?.delete(i.PolicyName ?? '')) throw noSuchEntity(`The role policy with name ${i.PolicyName} cannot be found.`);
    return {};
  });
  iam.iam.on(ListPolicyTagsCommand).callsFake(async (i) => ({ Tags: tagList(policy(i.PolicyArn).tags), IsTruncated: false }));
  iam.iam.on(ListEntitiesForPolicyCommand).callsFake(async (i) => ({ ...holders(policy(i.PolicyArn).arn), IsTruncated: false }));
  iam.iam.on(DetachRolePolicyCommand).callsFake(async (i) => detach(iam.roles.get(i.RoleName ?? '')?.attached, `role ${i.RoleName}`, i.PolicyArn));
  iam.iam.on(DetachUserPolicyCommand).callsFake(async (i) => detach(iam.users.get(i.UserName ?? '')?.attached, `user ${i.UserName}`, i.PolicyArn));
  iam.iam.on(DetachGroupPolicyCommand).callsFake(async (i) => detach(iam.groups.get(i.GroupName ?? '')?.attached, `group ${i.GroupName}`, i.PolicyArn));
  iam.iam.on(DeletePolicyCommand).callsFake(async (i) => {
    const p = policy(i.PolicyArn);
    const h = holders(p.arn);
    if (h.PolicyRoles.length + h.PolicyUsers.length + h.PolicyGroups.length) throw conflict('Cannot delete a policy attached to entities.');
    if (p.versions.length > 1) throw conflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions.");
    iam.policies.delete(p.arn);
    return {};
  });
  iam.iam.on(RemoveRoleFromInstanceProfileCommand).callsFake(async (i) => {
    const p = profile(i.InstanceProfileName);
    const r = role(i.RoleName);
    if (!p.roles.includes(r.name)) throw noSuchEntity(`Role ${r.name} is not in instance profile ${p.name}.`);
    p.roles = p.roles.filter((x) => x !== r.name);
    return {};
  });
  iam.iam.on(DeleteRoleCommand).callsFake(async (i) => {
    const r = role(i.RoleName);
    if ([...iam.profiles.values()].some((p) => p.roles.includes(r.name)))
      throw conflict('Cannot delete entity, must remove roles from instance profile first.');
    if (r.attached.size) throw conflict('Cannot delete entity, must detach all policies first.');
    if (inline.get(r.name)?.size) throw conflict('Cannot delete entity, must delete policies first.');
    iam.roles.delete(r.name);
    return {};
  });
  iam.iam.on(DeleteInstanceProfileCommand).callsFake(async (i) => {
    const p = profile(i.InstanceProfileName);
    if (p.roles.length) throw conflict('Cannot delete entity, must remove roles from instance profile first.');
    iam.profiles.delete(p.name);
    return {};
  });

  kms.mock.on(DeleteAliasCommand).callsFake(async (i) => {
    if (!kms.aliases.delete(i.AliasName ?? '')) throw new NotFoundException({ message: `Alias ${i.AliasName} is not found.`, ...meta });
    return {};
  });
  // ListTagsForResource and DeleteAssociation of associations are fake-fleet's.
  fleet.ssm.on(RemoveTagsFromResourceCommand).callsFake(async (i) => {
    const doc = i.ResourceType === 'Document' ? ssm.docs.get(i.ResourceId ?? '') : undefined;
    if (!doc) throw new InvalidResourceId({ message: `fake teardown: ${i.ResourceType} ${i.ResourceId} not found (documents only)`, ...meta });
    for (const k of i.TagKeys ?? []) delete doc.tags[k];
    return {};
  });
  fleet.ssm.on(DeleteDocumentCommand).callsFake(async (i) => {
    if (!ssm.docs.delete(i.Name ?? '')) throw new InvalidDocument({ message: `Document ${i.Name} does not exist in your account`, ...meta });
    return {};
  });

  ec2.ec2.on(DisassociateIamInstanceProfileCommand).callsFake(async (i) => {
    const a = ec2.associations.get(i.AssociationId ?? '');
    if (!a || (a.state !== 'associated' && a.state !== 'associating'))
      throw ec2Error('InvalidAssociationID.NotFound', `The association ID '${i.AssociationId}' does not exist`);
    a.state = 'disassociated';
    delete ec2.instance(a.instanceId).IamInstanceProfile;
    return { IamInstanceProfileAssociation: { AssociationId: a.id, InstanceId: a.instanceId, State: 'disassociating' as const } };
  });
  ec2.ec2.on(DeleteTagsCommand).callsFake(async (i: DeleteTagsCommandInput) => {
    const ids: string[] = i.Resources ?? [];
    if (!ids.length || ids.length > 1000) throw ec2Error('InvalidParameterValue', 'DeleteTags takes 1 to 1000 resources');
    const unknown = ids.filter((id) => !safeTags(id));
    if (unknown.length) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
    for (const id of ids) {
      const tags = safeTags(id)!;
      for (const t of i.Tags ?? []) if (t.Value === undefined || tags[t.Key ?? ''] === t.Value) delete tags[t.Key ?? ''];
    }
    return {};
  });
  const safeTags = (id: string) => {
    try {
      return ec2.tags(id);
    } catch {
      return undefined;
    }
  };

  return {
    ...account,
    /** Inline policies by role name, then by policy name. */
    inline,
    putInline(roleName: string, name: string, document = '{"Version":"2012-10-17","Statement":[]}') {
      role(roleName);
      inline.set(roleName, new Map([...(inline.get(roleName) ?? []), [name, document]]));
    },
  };
}

export type TeardownAccount = ReturnType<typeof teardownAccount>;

/** A destroy context as destroy.ts builds it, against the fakes (settings as if typed as flags). */
export async function teardownContext(
  flags: Record<string, unknown> = {},
  o: { io?: TestIo; deleteLogs?: boolean; region?: string } = {},
): Promise<TeardownContext> {
  const { settings } = await settingsFrom(flags);
  const region = o.region ?? REGION;
  return { settings, identity: IDENTITY, region, aws: testClients(region), io: o.io ?? new TestIo(), deleteLogs: o.deleteLogs ?? false };
}

/** Everything destroy reads, in its order: the removals and what it keeps. */
export const readAll = (ctx: TeardownContext): Promise<Teardown> => readTeardown(ctx);
