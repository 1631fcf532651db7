// Issue 13, item 11: a fix hint that says "rerun" repeats the settings of the run, so running it
// converges to the same result (not `run instance-role` without its CloudWatch statements).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings, withAnswers } from '../../src/config/load.js';
import type { AnyStep, Change } from '../../src/core/step.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { quote, rerunCommand } from '../../src/engine/rerun.js';
import { runSteps } from '../../src/engine/runner.js';
import { mockIdentity } from '../helpers/aws.js';
import { settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

const create: Change = { kind: 'create', action: 'create', resource: 'IAM policy', detail: 'new' };

/** One step whose apply is refused, as an AWS call would be. */
function failing(id: string): StepEntry[] {
  const step: AnyStep = {
    id,
    read: async () => ({}),
    plan: () => [create],
    apply: async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $ssmSetupCall: 'IAM.CreatePolicy' });
    },
    outputs: () => ({}),
  };
  return [{ id, title: `step ${id}`, dependsOn: [], load: async () => step }];
}

describe('the hint of a failed run', () => {
  it('of `run instance-role --cloudwatch-logs --log-group /x` repeats those flags', async () => {
    const entries = failing('instance-role');
    const { report } = await runSteps({
      command: 'run',
      mode: 'apply',
      io: new TestIo({ 'runner.apply': true }),
      aws: testClients(),
      loaded: await settingsFrom({ cloudwatchLogs: true, logGroup: '/x', region: 'eu-west-1' }),
      catalog: entries,
      selected: entries,
    });
    const { error } = report.steps[0]!;
    expect(error?.code).toBe('ACCESS_DENIED');
    expect(error?.hint).toContain('`ssm-setup run instance-role --region eu-west-1 --cloudwatch-logs --log-group /x`');
  });
});

describe('rerunCommand', () => {
  it('rebuilds every typed flag from the settings table, quoted for a shell', async () => {
    const loaded = await settingsFrom({
      profile: 'prod',
      idleTimeout: '30',
      agentUpdate: false,
      tag: ['Env=prod', 'Team=a b'],
      operatorUsers: 'alice,bob',
      tags: 'Team=infra',
      shellProfileLinux: "echo 'hi'; exec bash",
      s3Prefix: '',
    });
    expect(rerunCommand('init', [], loaded)).toBe(
      "ssm-setup init --profile prod --s3-prefix '' --operator-users alice,bob --idle-timeout 30 --shell-profile-linux 'echo '\\''hi'\\''; exec bash' --tag Env=prod --tag 'Team=a b' --no-agent-update --resource-tags Team=infra",
    );
  });

  it('names the settings file that was read, and adds the typed flags after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rerun-'));
    writeFileSync(join(dir, 'my settings.json'), JSON.stringify({ idleTimeout: 15, cloudwatchLogs: true }));
    const loaded = await loadSettings({ flags: { keyAlias: 'alias/x' }, configPath: 'my settings.json', env: { AWS_REGION: 'eu-west-1' }, cwd: dir });
    expect(rerunCommand('run', ['kms-key', 'preferences'], loaded)).toBe(
      `ssm-setup run kms-key preferences --config ${quote(join(dir, 'my settings.json'))} --key-alias alias/x`,
    );
  });

  it("keeps the wizard's answers that differ from the defaults", async () => {
    const loaded = withAnswers(await settingsFrom(), { idleTimeout: 20, cloudwatchLogs: true, runAs: 'ops' });
    expect(rerunCommand('init', [], loaded)).toBe('ssm-setup init --cloudwatch-logs --run-as ops');
  });

  it('in a --regions run names the one region (with its -<region> IAM names), or the failed regions', async () => {
    const base = await settingsFrom({ regions: 'eu-west-1,us-east-1,eu-central-1', idleTimeout: 30 });
    const regional = withAnswers(base, { instanceRole: 'SSMSessionManagerInstanceRole-us-east-1' });
    expect(rerunCommand('init', [], regional, { region: 'us-east-1' })).toBe(
      'ssm-setup init --instance-role SSMSessionManagerInstanceRole-us-east-1 --idle-timeout 30 --region us-east-1',
    );
    expect(rerunCommand('init', [], base, { regions: ['us-east-1', 'eu-central-1'] })).toBe(
      'ssm-setup init --idle-timeout 30 --regions us-east-1,eu-central-1',
    );
  });

  it('adds switches that are not settings', async () => {
    expect(rerunCommand('destroy', [], await settingsFrom(), { switches: ['--delete-logs'] })).toBe('ssm-setup destroy --delete-logs');
  });
});
