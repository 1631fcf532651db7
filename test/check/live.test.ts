import { StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { liveSessions } from '../../src/check/live.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { REGION, testClients } from '../helpers/fixtures.js';
import { A, B, checks, errors, sdkError, ssm, useWorld, world } from './harness.js';

// `check --live`: a real StartSession and TerminateSession on each ready target.

// The operator's local tools are detected by running `aws --version` and
// `session-manager-plugin --version`: mocked, so the tests do not depend on what is installed.
const tools = vi.hoisted(() => ({ current: { aws: '2.15.30', plugin: '1.2.650.0' } as { aws?: string; plugin?: string } }));
vi.mock('../../src/aws/local-tools.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/aws/local-tools.js')>()),
  detectLocalTools: vi.fn(async () => tools.current),
}));
beforeEach(() => {
  tools.current = { aws: '2.15.30', plugin: '1.2.650.0' };
});
useWorld();

describe('ssm-setup check --live', () => {
  const { out } = captureOutput();

  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  it('starts and at once terminates a session on each ready target', async () => {
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(0);
    expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A, B]);
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`, `alice-${B.slice(2)}`]);
    for (const t of json().targets!) {
      expect(t.findings.at(-1)).toEqual({ check: 'live-session', status: 'ok', detail: `StartSession accepted (alice-${t.instanceId.slice(2)}), terminated` });
      expect(t.ready).toBe(true);
    }
    // Each session is terminated before the next one starts.
    const order = ssm
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((n) => /Session/.test(n));
    expect(order).toEqual(['StartSessionCommand', 'TerminateSessionCommand', 'StartSessionCommand', 'TerminateSessionCommand']);
  });

  it('a refused StartSession turns that row to error: exit 3', async () => {
    world.refuse[B] = sdkError('TargetNotConnected', `${B} is not connected.`, 400);
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(3);
    const report = json();
    const b = report.targets!.find((t) => t.instanceId === B)!;
    expect(b.ready).toBe(false);
    expect(errors(b.findings)).toEqual([
      { check: 'live-session', status: 'error', detail: `StartSession refused: TargetNotConnected: ${B} is not connected.`, fix: 'see the operator findings' },
    ]);
    expect(report.targets!.find((t) => t.instanceId === A)!.ready).toBe(true);
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`]);
  });

  it('a target that is not ready is not tried', async () => {
    world.connection[B] = 'notconnected';
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(3);
    expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A]);
    expect(checks(json().targets!.find((t) => t.instanceId === B)!.findings)).not.toContain('live-session');
  });
});

describe('liveSessions', () => {
  const report = (instanceId: string, ready: boolean) => ({ instanceId, ready, findings: [{ check: 'state', status: 'ok' as const, detail: 'running' }] });

  it('leaves a target that is not ready as it is, and terminates only a session that was opened', async () => {
    ssm.on(StartSessionCommand).resolves({});
    const out = await liveSessions(testClients(), [report(A, true), report(B, false)]);
    expect(out[1]).toEqual(report(B, false));
    expect(out[0]!.findings.at(-1)).toEqual({ check: 'live-session', status: 'ok', detail: 'StartSession accepted (undefined), terminated' });
    expect(ssm).not.toHaveReceivedCommand(TerminateSessionCommand);
    expect(ssm).toHaveReceivedCommandWith(StartSessionCommand, { Target: A, Reason: 'ssm-setup check --live' });
  });
});
