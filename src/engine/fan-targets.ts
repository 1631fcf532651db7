import { AwsClients, type Identity } from '../aws/clients.js';
import { UsageError } from '../base/errors.js';
import { type LoadedSettings, labelFor, withAnswers } from '../config/load.js';
import type { Settings } from '../config/schema.js';
import type { Io } from '../core/io.js';

/**
 * Which accounts and regions a run works on: `--accounts` or `--organization` (with `--ous`,
 * `--exclude-accounts`, `--include-caller-account`) times `--regions`. Each target gets its own
 * clients: the caller's credentials for the caller's own account, else a role assumed in the
 * account (src/aws/accounts.ts), with the caller's region list and endpoint.
 */

/** One account in one region. */
export interface Target {
  readonly account: string;
  readonly region: string;
  /** Its clients (another account's: the assumed role, fetched on first use or by `prepare`). */
  readonly aws: AwsClients;
  /** Its settings: with several regions the IAM names carry `-<region>`. */
  readonly loaded: LoadedSettings;
  /** True for the caller's own account, worked on with the caller's credentials. */
  readonly own: boolean;
}

/** The targets of a run over several accounts or regions. */
export interface Fan {
  readonly targets: readonly Target[];
  readonly caller: Identity;
  /** Rows and hints name the account (a run over accounts) and the region (several regions). */
  readonly byAccount: boolean;
  readonly byRegion: boolean;
  /** Targets worked on at once (`--max-concurrency`). */
  readonly limit: number;
}

const label = (loaded: LoadedSettings, key: keyof Settings) => labelFor(key, loaded.sources[key], loaded.configFile, loaded.givenAs?.[key]);

/** Flags that cannot go together, refused (exit 2) before any AWS call. */
export function assertAccountFlags(loaded: LoadedSettings): void {
  const s = loaded.settings;
  const problems: string[] = [];
  if (s.accounts.length && s.organization) {
    problems.push(`${label(loaded, 'accounts')} and ${label(loaded, 'organization')} cannot be used together: name the accounts, or take the organization's`);
  }
  if (!s.organization) {
    if (s.ous.length) problems.push(`${label(loaded, 'ous')} narrows --organization, which is not given`);
    if (s.includeCallerAccount) problems.push(`${label(loaded, 'includeCallerAccount')} goes with --organization, which is not given`);
  }
  if (problems.length) throw new UsageError('CONFLICTING_FLAGS', problems, { hint: 'nothing was changed' });
}

/** True when the run works on more than one account or region (the fan-out path). */
export const isFan = (s: Settings) => s.accounts.length > 0 || s.organization || s.regions.length > 1;

/**
 * The accounts to work on, pure: `--accounts` as given, else the ACTIVE accounts of the
 * organization without the caller's own (unless `--include-caller-account`); `--exclude-accounts`
 * leaves some out either way. `skipped` tells which organization accounts were left out and why.
 */
export function pickAccounts(
  s: Pick<Settings, 'accounts' | 'excludeAccounts' | 'includeCallerAccount'>,
  caller: string,
  org?: readonly { readonly id: string; readonly active: boolean }[],
): { readonly accounts: string[]; readonly skipped: string[] } {
  const skipped: string[] = [];
  let ids: string[];
  if (s.accounts.length) ids = [...s.accounts];
  else {
    ids = [];
    for (const a of org ?? []) {
      if (!a.active) skipped.push(`${a.id} (not ACTIVE)`);
      else if (a.id === caller && !s.includeCallerAccount) skipped.push(`${a.id} (the caller's own account: --include-caller-account takes it)`);
      else ids.push(a.id);
    }
  }
  return { accounts: ids.filter((id) => !s.excludeAccounts.includes(id)).sort(), skipped };
}

/**
 * The fan of this run, or undefined for one account in one region. Reads the organization's
 * accounts with `--organization` (organizations:ListAccounts…); makes no other AWS call but
 * sts:GetCallerIdentity: each account's role is assumed when its target starts.
 */
export async function selectTargets(loaded: LoadedSettings, aws: AwsClients, io: Io): Promise<Fan | undefined> {
  assertAccountFlags(loaded);
  const s = loaded.settings;
  if (!isFan(s)) return undefined;
  const caller = await aws.identity();
  const byAccount = s.accounts.length > 0 || s.organization;
  let accounts = [caller.account];
  // Only a run over accounts loads the STS, IAM and Organizations clients of src/aws/accounts.ts.
  const many = byAccount ? await import('../aws/accounts.js') : undefined;
  if (many) {
    const { organizationAccounts } = many;
    const org = s.organization ? await io.task('Listing the accounts of the organization', () => organizationAccounts(aws, s.ous)) : undefined;
    const picked = pickAccounts(s, caller.account, org);
    for (const why of picked.skipped) io.info(`Left out: account ${why}`);
    accounts = picked.accounts;
    if (!accounts.length) {
      throw new UsageError('INVALID_SETTINGS', `${s.organization ? label(loaded, 'organization') : label(loaded, 'accounts')}: no account is left to work on`, {
        hint: 'check --ous and --exclude-accounts (the caller’s own account needs --include-caller-account); nothing was changed',
      });
    }
  }
  const regions = s.regions.length ? s.regions : [aws.target.region];
  const targets: Target[] = [];
  for (const account of accounts) {
    const own = account === caller.account;
    const credentials = own
      ? undefined
      : many!.assumeRoleProvider(aws, {
          account,
          partition: caller.partition,
          roleName: s.roleName,
          sessionName: s.roleSessionName,
          ...(s.externalId ? { externalId: s.externalId } : {}),
        });
    for (const region of regions) {
      const { endpointUrl, profile } = aws.target;
      const target = { region, ...(endpointUrl ? { endpointUrl } : {}), ...(own ? (profile ? { profile } : {}) : { credentials }) };
      targets.push({
        account,
        region,
        own,
        aws: new AwsClients(target, aws.recorder, aws.signal),
        loaded: regions.length > 1 ? regional(loaded, region) : loaded,
      });
    }
  }
  return { targets, caller, byAccount, byRegion: regions.length > 1, limit: s.maxConcurrency };
}

/** IAM is global: with several regions each region's IAM names get `-<region>`, so each policy names that region's key and bucket. */
export function regional(loaded: LoadedSettings, region: string): LoadedSettings {
  return withAnswers(loaded, {
    instanceRole: `${loaded.settings.instanceRole}-${region}`,
    instancePolicy: `${loaded.settings.instancePolicy}-${region}`,
    operatorPolicy: `${loaded.settings.operatorPolicy}-${region}`,
  });
}
