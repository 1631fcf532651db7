import { IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, ListAccountsForParentCommand, ListChildrenCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountAlias, assumeRoleProvider, organizationAccounts } from '../../src/aws/accounts.js';
import type { SetupError } from '../../src/base/errors.js';
import { testClients } from '../helpers/fixtures.js';

const A = '111122223333';
const B = '444455556666';
const C = '777788889999';
const ROOT = 'r-ab12';
const OU = 'ou-ab12-11111111';
const SUB = 'ou-ab12-22222222';

/** Organizations as strict as the API: an unknown parent is ParentNotFoundException. */
const denied = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return (err as SetupError).code;
  }
  return 'resolved';
};

describe('organizationAccounts', () => {
  let org: ReturnType<typeof mockClient>;
  beforeEach(() => {
    org = mockClient(OrganizationsClient);
  });
  afterEach(() => org.restore());

  it('reads every page of ListAccounts, and tells ACTIVE from SUSPENDED', async () => {
    org
      .on(ListAccountsCommand, {})
      .resolves({ Accounts: [{ Id: A, State: 'ACTIVE' }], NextToken: 't1' })
      .on(ListAccountsCommand, { NextToken: 't1' })
      .resolves({
        Accounts: [
          { Id: B, Status: 'SUSPENDED' },
          { Id: C, Status: 'ACTIVE' },
        ],
      });
    const accounts = await organizationAccounts(testClients());
    expect(accounts.map((a) => [a.id, a.active])).toEqual([
      [A, true],
      [B, false],
      [C, true],
    ]);
    expect(org.commandCalls(ListAccountsCommand)).toHaveLength(2);
  });

  it('--ous: the accounts under each OU at any depth (ListAccountsForParent, ListChildren), each page', async () => {
    org
      .on(ListAccountsForParentCommand)
      .rejects(denied('ParentNotFoundException'))
      .on(ListAccountsForParentCommand, { ParentId: OU })
      .resolves({ Accounts: [{ Id: A, State: 'ACTIVE' }] })
      .on(ListAccountsForParentCommand, { ParentId: SUB })
      .resolves({ Accounts: [{ Id: B, State: 'ACTIVE' }], NextToken: 'p2' })
      .on(ListAccountsForParentCommand, { ParentId: SUB, NextToken: 'p2' })
      .resolves({ Accounts: [{ Id: C, State: 'SUSPENDED' }] })
      .on(ListChildrenCommand)
      .rejects(denied('ParentNotFoundException'))
      .on(ListChildrenCommand, { ParentId: OU, ChildType: 'ORGANIZATIONAL_UNIT' })
      .resolves({ Children: [{ Id: SUB, Type: 'ORGANIZATIONAL_UNIT' }] })
      .on(ListChildrenCommand, { ParentId: SUB, ChildType: 'ORGANIZATIONAL_UNIT' })
      .resolves({ Children: [] });
    const accounts = await organizationAccounts(testClients(), [OU]);
    expect(accounts.map((a) => [a.id, a.active])).toEqual([
      [A, true],
      [B, true],
      [C, false],
    ]);
    expect(org.commandCalls(ListAccountsCommand)).toHaveLength(0);
  });

  it('an OU that is not the organization’s is UNKNOWN_OU (bad input)', async () => {
    org.on(ListAccountsForParentCommand).rejects(denied('ParentNotFoundException'));
    expect(await code(organizationAccounts(testClients(), [ROOT]))).toBe('UNKNOWN_OU');
  });

  it.each(['AWSOrganizationsNotInUseException', 'AccessDeniedException'])('%s: NO_ORGANIZATION, with what to do', async (name) => {
    org.on(ListAccountsCommand).rejects(denied(name));
    expect(await code(organizationAccounts(testClients()))).toBe('NO_ORGANIZATION');
  });
});

describe('assumeRoleProvider', () => {
  let sts: ReturnType<typeof mockClient>;
  beforeEach(() => {
    sts = mockClient(STSClient);
  });
  afterEach(() => sts.restore());

  const creds = (expiresInMs: number) => ({
    Credentials: { AccessKeyId: 'ASIAX', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + expiresInMs) },
  });

  it('assumes arn:<partition>:iam::<id>:role/<name> once, with the session name and external id', async () => {
    sts.on(AssumeRoleCommand).resolves(creds(3_600_000));
    const provider = assumeRoleProvider(testClients(), { account: A, partition: 'aws-cn', roleName: 'Setup', sessionName: 'ssm-setup', externalId: 'ext-1' });
    const first = await provider();
    await provider();
    expect(first).toMatchObject({ accessKeyId: 'ASIAX', sessionToken: 'token' });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: `arn:aws-cn:iam::${A}:role/Setup`, RoleSessionName: 'ssm-setup', ExternalId: 'ext-1' },
    ]);
  });

  it('assumes again when the credentials are about to expire', async () => {
    sts.on(AssumeRoleCommand).resolves(creds(60_000));
    const provider = assumeRoleProvider(testClients(), { account: A, partition: 'aws', roleName: 'R', sessionName: 'ssm-setup' });
    await provider();
    await provider();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).not.toHaveProperty('ExternalId');
  });

  it('a refusal (no such role, or it does not trust the caller) is ASSUME_ROLE_FAILED naming the role', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejects(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const provider = assumeRoleProvider(testClients(), { account: B, partition: 'aws', roleName: 'OrganizationAccountAccessRole', sessionName: 'ssm-setup' });
    const err = (await provider().catch((e: unknown) => e)) as SetupError;
    expect(err.code).toBe('ASSUME_ROLE_FAILED');
    expect(err.message).toContain(`arn:aws:iam::${B}:role/OrganizationAccountAccessRole`);
    expect(err.message).not.toContain('secret');
  });
});

describe('accountAlias', () => {
  let iam: ReturnType<typeof mockClient>;
  beforeEach(() => {
    iam = mockClient(IAMClient);
  });
  afterEach(() => iam.restore());

  it('the first alias, or undefined when there is none or the call is refused', async () => {
    iam
      .on(ListAccountAliasesCommand)
      .resolvesOnce({ AccountAliases: ['prod'] })
      .resolvesOnce({ AccountAliases: [] })
      .rejects(denied('AccessDenied'));
    expect(await accountAlias(testClients())).toBe('prod');
    expect(await accountAlias(testClients())).toBeUndefined();
    expect(await accountAlias(testClients())).toBeUndefined();
  });
});
