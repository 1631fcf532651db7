import { beforeEach, describe, expect, it } from 'vitest';
import { reset, runCli } from './harness.js';

beforeEach(reset);

const SERVER_SIDE = ['run', 'kms-key', 'log-bucket', 'instance-role', 'operator-policy', 'preferences', '--yes'];

describe('speed (issue 15): calls, never time', () => {
  it.each([['--help'], ['--version'], ['init', '--help'], ['run', '-h']])('%s into a pipe prints what the bundle prints', async (...args) => {
    const cached = await runCli(args);
    const live = await runCli(args, { env: { SSM_SETUP_NO_HELP_CACHE: '1' } });
    expect(cached.code).toBe(0);
    expect(cached.stdout).toBe(live.stdout);
    expect(cached.stdout.length).toBeGreaterThan(0);
  });

  it('the server-side run makes at most 30 calls; its converged rerun at most 20, none of them a write', async () => {
    const first = await runCli(SERVER_SIDE);
    expect(first.code).toBe(0);
    expect(first.calls.length).toBeLessThanOrEqual(30);
    const rerun = await runCli(SERVER_SIDE);
    expect(rerun.code).toBe(0);
    expect(rerun.calls.length).toBeLessThanOrEqual(20);
    expect(rerun.calls.filter((c) => c.write)).toEqual([]);
  });
});
