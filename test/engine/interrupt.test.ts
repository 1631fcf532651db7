// Issue 14.3: Ctrl-C while applying. The stateful fakes stub `send`, so the clients' own stop
// (test/aws/interrupt.test.ts) does not run here: this is the runner's part, which applies no
// further step after Ctrl-C, reports what was and was not done, and exits 130; a rerun converges.
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeAccount } from '../helpers/fake-account.js';
import { inProcessCli } from '../helpers/in-process.js';

let interrupt: AbortController;
/**
 * Presses Ctrl-C once the bucket is created: the key is made, and the steps that need only the
 * key (the bucket, the operator policy) have started; those that need the bucket have not, as
 * the bucket (created untagged: no s3:TagResource) waits for S3 to see it before its tags.
 */
const cli = inProcessCli((region) => fakeAccount({ region, s3: { deny: ['s3:TagResource'] } }), {
  onTick: () => {
    if (!interrupt.signal.aborted && cli.account().writes().includes('S3.CreateBucket')) interrupt.abort();
  },
});
beforeEach(() => {
  interrupt = new AbortController();
});
/** The writes but the lease's own (an SSM parameter taken before the first write, released at the end). */
const writesButLease = () =>
  cli
    .account()
    .writes()
    .filter((w) => w !== 'SSM.PutParameter' && w !== 'SSM.DeleteParameter');

describe('Ctrl-C while applying', () => {
  const { err } = cli;
  const ssmSetup = (signal: AbortSignal | undefined, ...args: string[]) => cli.json(args, signal ? { signal } : {});

  it('starts no step after it, lets those in flight end, says what was done, exits 130; a rerun converges', async () => {
    const { code, report } = await ssmSetup(interrupt.signal, 'init', '--yes');
    expect(code, err()).toBe(130);
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('INTERRUPTED');
    const status = Object.fromEntries(report.steps.map((s) => [s.id, s.status]));
    expect(status['kms-key']).toBe('created');
    // In flight at Ctrl-C: these fakes stub `send`, so the bucket's calls all go out and it ends created.
    expect(status['log-bucket']).toBe('created');
    expect(status['instance-role']).toBe('skipped');
    expect(status.preferences).toBe('skipped');
    expect(report.steps.find((s) => s.id === 'preferences')?.note).toMatch(/interrupted/);
    expect(writesButLease().filter((w) => /^IAM\.(CreateRole|CreateInstanceProfile)|^SSM\./.test(w))).toEqual([]);
    // The lease's release (one overwrite with a released record) went out after Ctrl-C too.
    expect(cli.account().writes().at(-1)).toBe('SSM.PutParameter');
    expect(err()).toContain('Ctrl-C');

    const again = await ssmSetup(undefined, 'init', '--yes');
    expect(again.code, err()).toBe(0);
    expect(again.report.steps.find((s) => s.id === 'kms-key')?.status).toBe('unchanged');
    const before = cli.account().writes().length;
    const plan = await ssmSetup(undefined, 'plan');
    expect(plan.report.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(cli.account().writes().slice(before)).toEqual([]);
  });

  it('a Ctrl-C before the run starts applying leaves everything unapplied (exit 130)', async () => {
    interrupt.abort();
    const { code, report } = await ssmSetup(interrupt.signal, 'init', '--yes');
    expect(code, err()).toBe(130);
    expect(report.steps.filter((s) => s.status === 'created' || s.status === 'updated')).toEqual([]);
    expect(writesButLease()).toEqual([]);
  });

  it('a Ctrl-C while plan reads: the reads in flight finish, then the plan ends INTERRUPTED (exit 130, ok false)', async () => {
    interrupt.abort();
    const { code, report } = await ssmSetup(interrupt.signal, 'plan');
    expect(code, err()).toBe(130);
    expect(report).toMatchObject({ ok: false, error: { code: 'INTERRUPTED' } });
    expect(cli.account().writes()).toEqual([]);
  });
});
