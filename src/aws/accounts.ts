import { IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { type Account, OrganizationsClient, paginateListAccounts, paginateListAccountsForParent, paginateListChildren } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsError, UsageError } from '../base/errors.js';
import type { AwsTarget, Clients } from '../core/clients.js';
import { errorName } from './errors.js';

/**
 * The AWS side of a run over many accounts (`--accounts`, `--organization`): which accounts an
 * organization holds, the credentials of a role assumed in one of them, and its alias.
 */

export type Credentials = Awaited<ReturnType<NonNullable<AwsTarget['credentials']>>>;

export interface AssumeInput {
  readonly account: string;
  /** `aws`, `aws-cn`, `aws-us-gov`: the caller's partition. */
  readonly partition: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly externalId?: string;
}

export const roleArn = (a: Pick<AssumeInput, 'account' | 'partition' | 'roleName'>) => `arn:${a.partition}:iam::${a.account}:role/${a.roleName}`;

/** Credentials are fetched again this long before they expire. */
const REFRESH_MS = 5 * 60_000;

/**
 * A credentials provider for one account: sts:AssumeRole into its role, sent with the caller's
 * own clients (so the call is recorded, and goes to the endpoint override), once, and again only
 * when the credentials are about to expire. The credentials stay in this closure, never printed
 * or written anywhere. A refusal fails with ASSUME_ROLE_FAILED naming the role.
 */
export function assumeRoleProvider(caller: Clients, input: AssumeInput): () => Promise<Credentials> {
  let current: Promise<Credentials> | undefined;
  const arn = roleArn(input);
  const fetch = async (): Promise<Credentials> => {
    try {
      const out = await caller.get(STSClient).send(
        new AssumeRoleCommand({
          RoleArn: arn,
          RoleSessionName: input.sessionName,
          ...(input.externalId ? { ExternalId: input.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    } catch (err) {
      throw new AwsError('ASSUME_ROLE_FAILED', `cannot assume ${arn}: ${errorName(err) || 'Error'}: ${(err as Error).message}`, {
        cause: err,
        hint: `the role must exist in account ${input.account} and trust the caller, and the caller needs sts:AssumeRole on it${input.externalId ? ' (with this --external-id)' : ''}: README, "Many accounts"`,
      });
    }
  };
  return async () => {
    const held = current ? await current.catch(() => undefined) : undefined;
    if (!current || (held?.expiration && held.expiration.getTime() - Date.now() < REFRESH_MS)) current = fetch();
    return current;
  };
}

/** The account's first alias, or undefined when it has none or iam:ListAccountAliases is not allowed. */
export async function accountAlias(clients: Clients): Promise<string | undefined> {
  try {
    return (await clients.get(IAMClient).send(new ListAccountAliasesCommand({}))).AccountAliases?.[0];
  } catch {
    return undefined;
  }
}

/** One account of the organization, as the selection needs it. */
export interface OrgAccount {
  readonly id: string;
  readonly name?: string;
  readonly active: boolean;
}

const view = (a: Account): OrgAccount => ({ id: a.Id ?? '', name: a.Name, active: (a.State ?? a.Status) === 'ACTIVE' });

/**
 * The accounts of the caller's organization, every page: all of them (organizations:ListAccounts),
 * or those under `ous` at any depth (ListAccountsForParent in each, ListChildren for the OUs
 * below). An OU or root id that is not the organization's is UNKNOWN_OU (exit 2); not being
 * allowed to list, or no organization, is NO_ORGANIZATION.
 */
export async function organizationAccounts(clients: Clients, ous: readonly string[] = []): Promise<OrgAccount[]> {
  const org = clients.get(OrganizationsClient);
  const config = { client: org };
  try {
    if (!ous.length) {
      const all: OrgAccount[] = [];
      for await (const page of paginateListAccounts(config, {})) all.push(...(page.Accounts ?? []).map(view));
      return all;
    }
    const found = new Map<string, OrgAccount>();
    const visit = async (parent: string): Promise<void> => {
      for await (const page of paginateListAccountsForParent(config, { ParentId: parent })) {
        for (const a of page.Accounts ?? []) found.set(a.Id ?? '', view(a));
      }
      const children: string[] = [];
      for await (const page of paginateListChildren(config, { ParentId: parent, ChildType: 'ORGANIZATIONAL_UNIT' })) {
        children.push(...(page.Children ?? []).map((c) => c.Id ?? '').filter(Boolean));
      }
      for (const child of children) await visit(child);
    };
    for (const ou of ous) {
      try {
        await visit(ou);
      } catch (err) {
        if (/ParentNotFound|InvalidInput/.test(errorName(err))) {
          throw new UsageError('UNKNOWN_OU', `--ous: ${ou} is not an organizational unit or root of this organization`, {
            hint: 'list them with `aws organizations list-roots` and `aws organizations list-organizational-units-for-parent`; nothing was changed',
          });
        }
        throw err;
      }
    }
    return [...found.values()];
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new AwsError(
      'NO_ORGANIZATION',
      `--organization: cannot list the accounts of the organization: ${errorName(err) || 'Error'}: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'run it with credentials of the management account (or a delegated administrator) allowed organizations:ListAccounts, ListAccountsForParent and ListChildren, or name the accounts with --accounts',
      },
    );
  }
}
