// Issue 14.3: Ctrl-C while applying. The stateful fakes stub `send`, so the clients' own stop
// (test/aws/interrupt.test.ts) does not run here: this is the runner's part, which applies no
// further step after Ctrl-C, reports what was and was not done, and exits 130; a rerun converges.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { type FakeAccount, fakeAccount } from '../helpers/fake-account.js';
import { settle } from '../helpers/fake-fleet.js';
import { fakeParameters } from '../helpers/fake-parameters.js';

const REGION = 'eu-west-1';
let account: FakeAccount;
let interrupt: AbortController;
/** The writes but the lease's own (an SSM parameter taken before the first write, released at the end). */
const writesButLease = () => account.writes().filter((w) => w !== 'SSM.PutParameter' && w !== 'SSM.DeleteParameter');
/** Presses Ctrl-C once the key has its alias, that is inside the kms-key step. */
const tick = async () => {
  if (!interrupt.signal.aborted && account.writes().includes('KMS.CreateAlias')) interrupt.abort();
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  account = fakeAccount({ region: REGION });
  fakeParameters({ mock: account.fleet.ssm, region: REGION });
  interrupt = new AbortController();
});
afterEach(() => {
  account.restore();
  vi.useRealTimers();
});

describe('Ctrl-C while applying', () => {
  const { out, err, clear } = captureOutput();
  const ssmSetup = async (signal: AbortSignal | undefined, ...args: string[]) => {
    clear();
    const code = await settle(main(['node', 'ssm-setup', ...args, '--region', REGION, '--json'], { signal }), tick);
    return { code, report: JSON.parse(out()) as RunReport };
  };

  it('applies nothing after the step in progress, says what was done, exits 130; a rerun converges', async () => {
    const { code, report } = await ssmSetup(interrupt.signal, 'init', '--yes');
    expect(code, err()).toBe(130);
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('INTERRUPTED');
    const status = Object.fromEntries(report.steps.map((s) => [s.id, s.status]));
    expect(status['kms-key']).toBe('created');
    expect(status['log-bucket']).toBe('skipped');
    expect(report.steps.find((s) => s.id === 'log-bucket')?.note).toMatch(/interrupted/);
    expect(writesButLease().every((w) => w.startsWith('KMS.'))).toBe(true);
    expect(account.writes().at(-1)).toBe('SSM.DeleteParameter');
    expect(err()).toContain('Ctrl-C');

    const again = await ssmSetup(undefined, 'init', '--yes');
    expect(again.code, err()).toBe(0);
    expect(again.report.steps.find((s) => s.id === 'kms-key')?.status).toBe('unchanged');
    const before = account.writes().length;
    const plan = await ssmSetup(undefined, 'plan');
    expect(plan.report.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(account.writes().slice(before)).toEqual([]);
  });

  it('a Ctrl-C before the run starts applying leaves everything unapplied (exit 130)', async () => {
    interrupt.abort();
    const { code, report } = await ssmSetup(interrupt.signal, 'init', '--yes');
    expect(code, err()).toBe(130);
    expect(report.steps.filter((s) => s.status === 'created' || s.status === 'updated')).toEqual([]);
    expect(writesButLease()).toEqual([]);
  });
});
