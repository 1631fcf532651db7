import { GetCommandInvocationCommand, ListCommandInvocationsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { managedInventory, runTiming } from '../../src/aws/fleet.js';
import { DEEP_SCRIPTS, deepChecks, NO_SSM_CLI, parseDiagnostics } from '../../src/check/deep.js';
import type { TargetReport } from '../../src/check/index.js';
import { type FakeFleet, fakeFleet } from '../helpers/fake-fleet.js';
import { REGION, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

// check --deep: ssm-cli get-diagnostics through Run Command, its failed checks merged into the
// rows. The output is the exact shape ssm-cli prints (amazon-ssm-agent
// agent/cli/clicommand/getdiagnostics.go: json.MarshalIndent of {DiagnosticsOutput: [{Check,
// Status, Note}]}), squeezed by the script as it is on the instance.
const TIMING = { ...runTiming };
let fleet: FakeFleet;
beforeEach(() => {
  Object.assign(runTiming, { firstPollMs: 1, maxPollMs: 1 });
  fleet = fakeFleet();
});
afterEach(() => {
  fleet.restore();
  Object.assign(runTiming, TIMING);
});

const row = (Check: string, Status = 'Success', Note = `${Check} is fine`) => ({ Check, Status, Note });
const HEALTHY = [
  row('EC2 IMDS', 'Success', 'IMDS is accessible and has instance id i-0123456789abcdefa in region eu-west-1'),
  row('Hybrid instance registration', 'Skipped', 'Instance does not have hybrid registration'),
  ...['ssm', 'ec2messages', 'ssmmessages', 's3', 'kms', 'logs', 'monitoring'].map((s) =>
    row(`Connectivity to ${s} endpoint`, 'Success', `${s}.${REGION}.amazonaws.com is reachable`),
  ),
  row(
    'AWS Credentials',
    'Success',
    'Credentials are for arn:aws:sts::123456789012:assumed-role/SSM-Role/i-0123456789abcdefa and will expire at 2021-09-02 13:24:42 +0000 UTC',
  ),
  row('Agent service', 'Success', 'Agent service is running and is running as expected user'),
  row('Proxy configuration', 'Skipped', 'No proxy configuration detected'),
  row('SSM Agent version', 'Success', 'SSM Agent version is 3.3.1142.0, latest agent version in eu-west-1 is 3.3.1142.0'),
];
/** As ssm-cli prints it (two-space MarshalIndent), then squeezed like `tr -s ' \n\t' ' '`. */
const printed = (rows: readonly ReturnType<typeof row>[]) => JSON.stringify({ DiagnosticsOutput: rows }, null, 2).replace(/[ \n\t]+/g, ' ');
const broken = (check: string, note: string) => printed(HEALTHY.map((r) => (r.Check === check ? row(check, 'Failed', note) : r)));

const reportsOf = (ids: readonly string[]): TargetReport[] => ids.map((instanceId) => ({ instanceId, ready: true, findings: [] }));
async function deep(ids: readonly string[]) {
  const managed = await managedInventory(testClients(), ids);
  return deepChecks(testClients(), new TestIo(), REGION, reportsOf(ids), managed);
}
const on = (doc: string, output: string) => ({ outcomes: { [doc]: { status: 'Success' as const, output } } });

describe('check --deep', () => {
  it('a failed connectivity check turns exactly that row red with its fix; a healthy one gets one ok line', async () => {
    const bad = fleet.add(
      on(
        'AWS-RunShellScript',
        broken('Connectivity to ssmmessages endpoint', `ssmmessages.${REGION}.amazonaws.com is not reachable: dial tcp 10.1.1.5:443: i/o timeout`),
      ),
    );
    const good = fleet.add(on('AWS-RunShellScript', printed(HEALTHY)));
    const [a, b] = await deep([bad, good]);
    expect(a!.ready).toBe(false);
    expect(a!.findings.filter((f) => f.status === 'error')).toEqual([
      {
        check: 'deep',
        status: 'error',
        detail: `Connectivity to ssmmessages endpoint: ssmmessages.${REGION}.amazonaws.com is not reachable: dial tcp 10.1.1.5:443: i/o timeout`,
        fix: `ssm-setup run vpc-endpoints --vpc-endpoints --instance-ids ${bad} --region ${REGION}`,
      },
    ]);
    expect(b).toEqual({
      instanceId: good,
      ready: true,
      findings: [{ check: 'deep', status: 'ok', detail: 'ssm-cli get-diagnostics: 11 of 13 checks passed' }],
    });
  });

  it.each([
    [
      'EC2 IMDS',
      'Failed to fetch instance id from IMDS: context deadline exceeded',
      /^aws ec2 modify-instance-metadata-options --instance-id i-\w+ --http-endpoint enabled /,
    ],
    ['AWS Credentials', 'No credentials available', /^ssm-setup run instance-role --instance-ids i-\w+ /],
    ['Agent service', 'Agent service is not running', /^sudo systemctl restart amazon-ssm-agent$/],
  ])('a failed %s check: an error with its fix', async (check, note, fix) => {
    const id = fleet.add(on('AWS-RunShellScript', broken(check, note)));
    const [r] = await deep([id]);
    const found = r!.findings.filter((f) => f.status === 'error');
    expect(found.map((f) => f.detail)).toEqual([`${check}: ${note}`]);
    expect(found[0]!.fix).toMatch(fix);
  });

  it('Windows runs AWS-RunPowerShellScript; no ssm-cli or an old agent is a note, not an error', async () => {
    const win = fleet.add({ platformType: 'Windows', ...on('AWS-RunPowerShellScript', printed(HEALTHY)) });
    const none = fleet.add(on('AWS-RunShellScript', `${NO_SSM_CLI}\n`));
    const old = fleet.add({ agentVersion: '3.0.1124.0' });
    const rows = await deep([win, none, old]);
    expect(rows.every((r) => r.ready)).toBe(true);
    expect(rows.map((r) => r.findings.map((f) => f.status))).toEqual([['ok'], ['ok'], ['ok']]);
    expect(rows[1]!.findings[0]!.detail).toMatch(/^note: no ssm-cli on the instance/);
    expect(rows[2]!.findings[0]!.detail).toMatch(/^note: agent 3\.0\.1124\.0 predates ssm-cli get-diagnostics/);
    const sent = fleet.ssm.commandCalls(SendCommandCommand).map((c) => [c.args[0].input.DocumentName, c.args[0].input.InstanceIds]);
    expect(sent).toEqual([
      ['AWS-RunShellScript', [none]],
      ['AWS-RunPowerShellScript', [win]],
    ]);
    expect(fleet.ssm.commandCalls(SendCommandCommand)[1]!.args[0].input.Parameters).toEqual({ commands: [...DEEP_SCRIPTS.windows] });
  });

  it('one SendCommand per 50 targets and one poll per command (ListCommandInvocations with Details), never per instance', async () => {
    const ids = fleet.addMany(120, on('AWS-RunShellScript', printed(HEALTHY)));
    const rows = await deep(ids);
    expect(rows.every((r) => r.ready)).toBe(true);
    expect(fleet.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.InstanceIds!.length)).toEqual([50, 50, 20]);
    const polls = fleet.ssm.commandCalls(ListCommandInvocationsCommand);
    expect(polls.every((c) => c.args[0].input.Details === true && !!c.args[0].input.CommandId)).toBe(true);
    // The fake finishes every invocation on the third poll of its command.
    expect(polls).toHaveLength(3 * 3);
    expect(fleet.ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('targets that are not Online are left as they are', async () => {
    const lost = fleet.add({ pingStatus: 'ConnectionLost' });
    const [r] = await deep([lost]);
    expect(r).toEqual({ instanceId: lost, ready: true, findings: [] });
    expect(fleet.ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });
});

describe('parseDiagnostics (pure)', () => {
  it('reads the indented JSON as ssm-cli prints it, and the whole rows of an output cut at 2,500 characters', () => {
    expect(parseDiagnostics(JSON.stringify({ DiagnosticsOutput: HEALTHY }, null, 2))).toEqual({ rows: HEALTHY, truncated: false });
    const cut = printed(HEALTHY).slice(0, 700);
    const parsed = parseDiagnostics(cut)!;
    expect(parsed.truncated).toBe(true);
    expect(parsed.rows.length).toBeGreaterThan(2);
    expect(parsed.rows).toEqual(HEALTHY.slice(0, parsed.rows.length));
    expect(parseDiagnostics('ssm-cli: unknown command get-diagnostics')).toBeUndefined();
  });
});
