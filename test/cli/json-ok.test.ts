// Issue 14.5: `--json` `ok` is false whenever the exit code is not 0, for every command and every
// exit code it can end with (0, 1, 2, 3, 130): stdout then carries exactly one JSON object, and
// a failed plan never also says that nothing changes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSServiceException, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { settle } from '../helpers/fake-fleet.js';
import { fakeParameters } from '../helpers/fake-parameters.js';
import { type TeardownAccount, teardownAccount } from '../teardown/fake-teardown.js';

const REGION = 'eu-west-1';
let account: TeardownAccount;
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  account = teardownAccount({ region: REGION });
  fakeParameters({ mock: account.fleet.ssm, region: REGION });
});
afterEach(() => {
  account.restore();
  vi.useRealTimers();
});

const denied = (Service: typeof STSServiceException | typeof KMSServiceException) =>
  new Service({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' });
const dir = mkdtempSync(join(tmpdir(), 'ssm-setup-json-ok-'));

type Setup = (a: TeardownAccount) => string[] | undefined | Promise<string[] | undefined>;
/** Before the command: the deny or the state that makes it end with its code; may add arguments. */
const identityDenied: Setup = (a) => {
  a.sts.on(GetCallerIdentityCommand).rejects(denied(STSServiceException));
  return undefined;
};
const unmanagedTarget: Setup = (a) => ['--instance-ids', a.fleet.add({ managed: false })];

/** [command line, the exit code it must end with, setup]. */
const CASES: readonly [string[], number, Setup?][] = [
  [['init', '--yes'], 0],
  [['plan'], 0],
  [['run', 'kms-key', '--yes'], 0],
  [['export', 'cloudformation', '-o', join(dir, 't.yaml')], 0],
  [['destroy', '--yes'], 0],
  [['init', '--yes'], 1, identityDenied],
  [['plan'], 1, identityDenied],
  [['run', 'kms-key', '--yes'], 1, identityDenied],
  [['check'], 1, identityDenied],
  [['audit'], 1, identityDenied],
  [['destroy', '--yes'], 1, identityDenied],
  [
    ['init', '--yes'],
    1,
    (a) => {
      a.kms.mock.on(CreateKeyCommand).rejects(denied(KMSServiceException));
      return undefined;
    },
  ],
  [
    ['plan'],
    1,
    (a) => {
      // The first KMS read of a planned kms-key: the alias list.
      a.kms.mock.on(ListAliasesCommand).rejects(denied(KMSServiceException));
      return undefined;
    },
  ],
  [['export', 'cloudformation', '-o', join(dir, 'missing-dir', 't.yaml')], 1],
  [['init', '--yes', '--idle-timeout', '99'], 2],
  [['plan', '--idle-timeout', '99'], 2],
  [['run', 'no-such-step', '--yes'], 2],
  [['check', '--bogus-flag'], 2],
  [['audit', '--bogus-flag'], 2],
  [['export', 'terraform'], 2],
  [['destroy', '--yes', '--delete-logs'], 2],
  [['ssh-config', '--bogus-flag'], 2],
  [['plan', '--detailed-exitcode'], 3],
  [['check'], 3, unmanagedTarget],
];

/**
 * Ctrl-C before the first AWS call. aws-sdk-client-mock replaces `send`, so the clients'
 * middleware that refuses calls after Ctrl-C does not run here: every command stops once its
 * reads are done, before its result or its first write (130, INTERRUPTED); `ok` is false.
 */
const INTERRUPTED: readonly [string[], number][] = [
  [['init', '--yes'], 130],
  [['run', 'kms-key', '--yes'], 130],
  [['plan'], 130],
  [['check'], 130],
  // This world fakes no DescribeSessions: the audit's read fails before the stop (exit 1).
  [['audit'], 1],
  [['destroy', '--yes'], 130],
];

describe('--json ok follows the exit code', () => {
  const { out, err, clear } = captureOutput();
  const ssmSetup = async (args: string[], signal?: AbortSignal) => {
    clear();
    const code = await settle(main(['node', 'ssm-setup', ...args, '--region', REGION, '--json'], { signal }), tick);
    return { code, text: out() };
  };
  const oneObject = (text: string) => JSON.parse(text) as RunReport;

  it.each(CASES)('%j: exit %i, ok only when 0', async (args, expected, setup) => {
    const extra = (await setup?.(account)) ?? [];
    const { code, text } = await ssmSetup([...args, ...extra]);
    expect(code, err()).toBe(expected);
    const report = oneObject(text);
    expect(report.ok).toBe(code === 0);
    // A failure says what failed; 3 is not a failure (changes pending, a target not ready).
    if (code !== 0 && code !== 3) expect(report.error ?? report.steps.find((s) => s.error)?.error).toBeDefined();
  });

  it.each(INTERRUPTED)('%j interrupted (Ctrl-C): exit %s, ok false', async (args, expected) => {
    const stop = new AbortController();
    stop.abort();
    const { code, text } = await ssmSetup(args, stop.signal);
    expect(code, err()).toBe(expected);
    expect(oneObject(text).ok).toBe(false);
  });
});

describe('a plan that failed', () => {
  const { out, err, clear } = captureOutput();
  it('never also says that nothing changes', async () => {
    account.kms.mock.on(CreateKeyCommand).rejects(denied(KMSServiceException));
    account.sts.on(GetCallerIdentityCommand).rejects(denied(STSServiceException));
    clear();
    const code = await settle(main(['node', 'ssm-setup', 'plan', '--region', REGION]), tick);
    expect(code).toBe(1);
    expect(out() + err()).not.toMatch(/No changes|up to date|Nothing to remove/);
  });
});
