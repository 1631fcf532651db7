import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Io } from '../../src/core/io.js';
import type { AnyStep, Change } from '../../src/core/step.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { runSteps } from '../../src/engine/runner.js';
import { PlainIo } from '../../src/ui/base-io.js';
import { mockIdentity } from '../helpers/aws.js';
import { settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

// A change that weakens security or audit, or touches what someone else owns, is confirmed on
// its own (default No) in a terminal, and goes ahead under --yes with a warning.
let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

const WEAKEN: Change = {
  kind: 'x',
  action: 'update',
  resource: 'preferences cloudWatchStreamingEnabled',
  detail: 'true → false',
  risk: { kind: 'weakens-audit', why: 'sessions are no longer streamed to CloudWatch Logs' },
};
const PLAIN: Change = { kind: 'y', action: 'update', resource: 'key rotation', detail: 'off → on' };

function catalog(changes: Change[]) {
  const applied: string[] = [];
  const step: AnyStep = {
    id: 'a',
    read: async () => ({}),
    plan: () => changes,
    apply: async () => {
      applied.push('a');
      return {};
    },
    outputs: () => ({}),
  };
  const entries: StepEntry[] = [{ id: 'a', title: 'step a', dependsOn: [], load: async () => step }];
  return { entries, applied };
}
const run = async (entries: StepEntry[], io: Io) =>
  runSteps({ command: 'init', mode: 'apply', io, aws: testClients(), loaded: await settingsFrom(), catalog: entries, selected: entries });

describe('changes that weaken security or audit', () => {
  it('a terminal asks on its own; No (the default) applies nothing and exits as declined', async () => {
    const { entries, applied } = catalog([PLAIN, WEAKEN]);
    const io = new TestIo({ 'runner.apply': true, 'runner.confirm-risky': false });
    await expect(run(entries, io)).rejects.toMatchObject({ code: 'DECLINED' });
    expect(io.prompts).toEqual(['runner.apply', 'runner.confirm-risky']);
    expect(applied).toEqual([]);
    expect(io.lines.some((l) => l.startsWith('warn: weakens audit: preferences cloudWatchStreamingEnabled'))).toBe(true);
  });

  it('yes to both applies, and the plan carries the mark', async () => {
    const { entries, applied } = catalog([WEAKEN]);
    const io = new TestIo({ 'runner.apply': true, 'runner.confirm-risky': true });
    const { report } = await run(entries, io);
    expect(applied).toEqual(['a']);
    expect(io.plans[0]!.steps[0]!.changes[0]!.risk).toEqual(WEAKEN.risk);
    expect(report.ok).toBe(true);
  });

  it('no risky change: no second question', async () => {
    const { entries } = catalog([PLAIN]);
    const io = new TestIo({ 'runner.apply': true });
    await run(entries, io);
    expect(io.prompts).toEqual(['runner.apply']);
  });

  it('--yes goes ahead, printing each one as a warning', async () => {
    const { entries, applied } = catalog([WEAKEN]);
    let err = '';
    const stderr = {
      write: (s: string) => {
        err += s;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const stdout = { write: () => true } as unknown as NodeJS.WritableStream;
    await run(entries, new PlainIo({ yes: true, stderr, stdout }));
    expect(applied).toEqual(['a']);
    expect(err).toContain('! weakens audit: preferences cloudWatchStreamingEnabled: true → false (sessions are no longer streamed to CloudWatch Logs)');
  });
});
