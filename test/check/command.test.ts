import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, StartSessionCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';
import { A, B, checks, ec2Instance, errors, RECENT_AGENT, ssm, useWorld, world } from './harness.js';

// `ssm-setup check`, in-process: exit codes, the JSON report, the terminal table, target resolution.

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

describe('ssm-setup check (the command, in-process)', () => {
  const { out, err } = captureOutput();

  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  it('all ready: exit 0, and the JSON report holds every row, finding and section, and the connect command', async () => {
    const code = await run('--instance-ids', `${A},${B}`, '--json');
    expect(code, err()).toBe(0);
    const report = json();
    expect(report).toMatchObject({
      command: 'check',
      account: ACCOUNT,
      region: REGION,
      ok: true,
      connect: `aws ssm start-session --target ${A} --region ${REGION}`,
    });
    expect(report.targets!.map((t) => [t.instanceId, t.name, t.ready])).toEqual([
      [A, 'app-1', true],
      [B, 'app-2', true],
    ]);
    for (const t of report.targets!) {
      expect(t.findings.length).toBeGreaterThan(10);
      for (const f of t.findings) {
        expect(Object.keys(f).every((k) => ['check', 'status', 'detail', 'fix'].includes(k))).toBe(true);
        expect(typeof f.check).toBe('string');
        expect(['ok', 'warning', 'error']).toContain(f.status);
        expect(typeof f.detail).toBe('string');
      }
    }
    expect(Object.keys(report.checks!).sort()).toEqual(['account', 'local', 'operator']);
    expect(checks(report.checks!.account)).toEqual(['preferences', 'key', 'key-root', 'key-policy', 'bucket-encryption', 'bucket-public-access', 'log-group']);
    // The five rights, then the key policy's word on the caller.
    expect(report.checks!.operator).toHaveLength(6);
    expect(report.checks!.local).toEqual([
      { check: 'aws-cli', status: 'ok', detail: 'AWS CLI 2.15.30' },
      { check: 'session-manager-plugin', status: 'ok', detail: 'session-manager-plugin 1.2.650.0' },
      expect.objectContaining({ check: 'ssh-config', status: expect.stringMatching(/^(ok|warning)$/) }),
    ]);
    // Read-only, and no session without --live.
    expect(ssm).not.toHaveReceivedCommand(StartSessionCommand);
  });

  it('a target not ready: exit 3, its row carries the error and the fix', async () => {
    world.inventory[B] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT };
    const code = await run('--instance-ids', `${A},${B}`, '--json');
    expect(code).toBe(3);
    const report = json();
    // ok follows the exit code.
    expect(report.ok).toBe(false);
    expect(report.targets!.find((t) => t.instanceId === A)!.ready).toBe(true);
    const b = report.targets!.find((t) => t.instanceId === B)!;
    expect(b.ready).toBe(false);
    expect(errors(b.findings)).toEqual([
      expect.objectContaining({ check: 'managed', status: 'error', detail: expect.stringMatching(/^managed but ConnectionLost/), fix: expect.any(String) }),
    ]);
    expect(report.connect).toBe(`aws ssm start-session --target ${A} --region ${REGION}`);
  });

  it('--all checks every instance of the region', async () => {
    const code = await run('--all', '--json');
    expect(code).toBe(0);
    expect(json().targets!.map((t) => t.instanceId)).toEqual([A, B]);
    expect(world.net.ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
    });
  });

  it('an unknown instance id is bad input: exit 2 before any check', async () => {
    const code = await run('--instance-ids', 'i-0ccccccccccccccc3', '--json');
    expect(code).toBe(2);
    expect(json().error!.code).toBe('UNKNOWN_INSTANCE');
    // The contract: the message names the --instance-ids values that were not found.
    expect(json().error!.message).toContain('i-0ccccccccccccccc3');
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it('the terminal table: each row, its first problem and fix, and the connect line', async () => {
    world.net.addInstance(ec2Instance(B, 2, { IamInstanceProfile: undefined }));
    const code = await run('--instance-ids', `${A},${B}`);
    expect(code).toBe(3);
    const text = out();
    expect(text).toContain(`Readiness in account ${ACCOUNT}, ${REGION}:`);
    expect(text).toMatch(new RegExp(`${A} \\(app-1\\)\\s+✔ ready`));
    expect(text).toMatch(new RegExp(`${B} \\(app-2\\)\\s+✖ not ready  instance-profile: no instance profile`));
    expect(text).toContain(`fix: ssm-setup run instance-role --instance-ids ${B}`);
    expect(text).toContain('1 of 2 targets ready.');
    expect(text).toContain(`Connect: aws ssm start-session --target ${A} --region ${REGION}`);
    expect(text).toContain(`Not ready (exit 3): 1 target is not ready (${B}).`);
  });

  it('every target ready but the plugin missing on this machine: exit 3, ok false, and the last line says it is this machine', async () => {
    tools.current = { aws: '2.15.30' };
    const code = await run('--instance-ids', `${A},${B}`);
    expect(code).toBe(3);
    expect(out()).toContain('Not ready (exit 3): this machine: session-manager-plugin.');
    await run('--instance-ids', `${A},${B}`, '--json');
    expect(JSON.parse(out().slice(out().lastIndexOf('\n{') + 1)).ok).toBe(false);
  });
});
