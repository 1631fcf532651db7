import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from './capture.js';
import { settle } from './fake-fleet.js';
import { type FakeParametersOptions, fakeParameters } from './fake-parameters.js';

/** What the harness needs of a stateful fake account (fakeAccount, teardownAccount…). */
interface Restorable {
  readonly fleet: { readonly ssm: NonNullable<FakeParametersOptions['mock']> };
  restore(): void;
}

/**
 * The whole CLI in process (`main`) against a stateful fake account, made afresh for each test
 * of the calling suite: fake timers so that every wait runs at once, the SSM public parameters,
 * stdout and stderr captured. `run` runs one command in `region` and settles the timers as it
 * goes (`onTick` runs at each step, e.g. to press Ctrl-C at a chosen moment); `json` adds
 * `--json` and parses the report.
 */
export function inProcessCli<A extends Restorable>(make: (region: string) => A, opts: { readonly region?: string; readonly onTick?: () => void } = {}) {
  const region = opts.region ?? 'eu-west-1';
  let account: A | undefined;
  const tick = async () => {
    opts.onTick?.();
    if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
    else await new Promise((r) => setImmediate(r));
  };
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    account = make(region);
    fakeParameters({ mock: account.fleet.ssm, region });
  });
  afterEach(() => {
    account?.restore();
    vi.useRealTimers();
  });
  const output = captureOutput();
  const run = (args: readonly string[], o: { readonly signal?: AbortSignal } = {}) => {
    output.clear();
    return settle(main(['node', 'ssm-setup', ...args, '--region', region], o), tick);
  };
  return {
    region,
    /** This test's account. */
    account: () => account!,
    run,
    async json(args: readonly string[], o: { readonly signal?: AbortSignal } = {}) {
      const code = await run([...args, '--json'], o);
      return { code, report: JSON.parse(output.out()) as RunReport };
    },
    out: output.out,
    err: output.err,
  };
}
