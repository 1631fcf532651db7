import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { PREFERENCES_FUNCTION_CODE } from '../../src/policies/cloudformation/preferences-lambda.js';
import { endpoint, errorCode, reset, runCli, sdk } from './harness.js';

beforeEach(reset);

/**
 * cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational findings. With
 * `--non-zero-exit-code warning` informational findings do not count, errors and warnings do:
 * the template must lint to exit 0. The regions are explicit (cfn-lint would otherwise read
 * AWS_REGION, which the test environment sets empty).
 */
/** Checked in these regions: resource types, properties and the Lambda runtime must exist in each. */
const CFN_LINT_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1'];
const CFN_LINT_ARGS = ['--non-zero-exit-code', 'warning', '--regions', ...CFN_LINT_REGIONS, '--'];
const cfnLintVersion = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const noCfnLint =
  cfnLintVersion.error || cfnLintVersion.status !== 0
    ? `cfn-lint is not on PATH (${cfnLintVersion.error?.message ?? cfnLintVersion.stderr}): pip install cfn-lint`
    : undefined;
if (noCfnLint) console.warn(`SKIPPED the cfn-lint checks of export: ${noCfnLint}`);

const pythonCheck = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
const noBoto3 = pythonCheck.status !== 0 ? `python3 with boto3 is not available (${pythonCheck.error?.message ?? pythonCheck.stderr.trim()})` : undefined;
if (noBoto3) console.warn(`SKIPPED the preferences function check of export: ${noBoto3}`);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-setup-e2e-export-'));
});

const exportCfn = (...args: string[]) => runCli(['export', 'cloudformation', ...args], { cwd: dir });

/** Lints a template file; the whole cfn-lint output is the failure message. */
function cfnLint(file: string): { status: number | null; output: string } {
  const r = spawnSync('cfn-lint', [...CFN_LINT_ARGS, file], { encoding: 'utf8' });
  return { status: r.status, output: `cfn-lint ${[...CFN_LINT_ARGS, file].join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}` };
}

function lintText(text: string, name: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return cfnLint(file);
}

const ALL_ON = [
  '--cloudwatch-logs',
  '--log-group',
  '/sessions/prod',
  '--log-retention-days',
  '30',
  '--run-as',
  'ec2-user',
  '--operator-access',
  'full',
  '--operator-users',
  'alice,bob',
  '--operator-groups',
  'ops',
  '--max-session-duration',
  '120',
  '--bucket',
  'my-session-logs',
  '--log-transition-days',
  '0',
  '--log-expiration-days',
  '0',
  '--idle-timeout',
  '30',
  '--no-cloudwatch-agent',
  '--tags',
  'Team=ops,Cost Center=42',
  '--shell-profile-linux',
  'cd ${HOME}\necho "it\'s: #1"\n\tsudo -i\n',
  '--shell-profile-windows',
  'cd $env:USERPROFILE',
];

describe('ssm-setup export cloudformation', () => {
  it('writes a YAML template to stdout without credentials or any AWS call', async () => {
    const run = await runCli(['export', 'cloudformation'], {
      cwd: dir,
      env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_REGION: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.calls).toEqual([]);
    expect(run.stdout).toMatch(/^AWSTemplateFormatVersion: '2010-09-09'\nDescription: /);
    expect(run.stdout).toContain('\n  SessionPreferences:\n    Type: Custom::SessionManagerPreferences\n');
    expect(run.stdout).not.toMatch(/!(Sub|Ref|GetAtt|If)\b/);
  });

  it.skipIf(!!noCfnLint)('passes cfn-lint as YAML and as JSON, with the default settings', async () => {
    const yaml = await exportCfn();
    expect(yaml.code, yaml.stderr).toBe(0);
    const y = lintText(yaml.stdout, 'template.yaml');
    expect(y.status, y.output).toBe(0);

    const json = await exportCfn('--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const template = JSON.parse(json.stdout);
    expect(template.Resources.LogBucket.DeletionPolicy).toBe('Retain');
    const j = lintText(json.stdout, 'template.json');
    expect(j.status, j.output).toBe(0);
    expect(json.calls).toEqual([]);
  });

  it.skipIf(!!noCfnLint)('passes cfn-lint with every optional part switched on by flags, which become the defaults', async () => {
    const run = await exportCfn('--format', 'json', ...ALL_ON);
    expect(run.code, run.stderr).toBe(0);
    const { Parameters } = JSON.parse(run.stdout);
    expect(Parameters.EnableCloudWatchLogs.Default).toBe('true');
    expect(Parameters.LogGroupName.Default).toBe('/sessions/prod');
    expect(Parameters.RunAsUser.Default).toBe('ec2-user');
    expect(Parameters.OperatorAccess.Default).toBe('full');
    expect(Parameters.OperatorUsers.Default).toBe('alice,bob');
    expect(Parameters.BucketName.Default).toBe('my-session-logs');
    expect(Parameters.ShellProfileLinux.Default).toBe('cd ${HOME}\necho "it\'s: #1"\n\tsudo -i\n');
    const j = lintText(run.stdout, 'all-on.json');
    expect(j.status, j.output).toBe(0);

    const yaml = await exportCfn(...ALL_ON);
    expect(yaml.stdout).toContain('    Default: |\n      cd ${HOME}\n      echo "it\'s: #1"\n      \tsudo -i\n');
    const y = lintText(yaml.stdout, 'all-on.yaml');
    expect(y.status, y.output).toBe(0);
  });

  it.skipIf(!!noCfnLint)('reports what cfn-lint finds in a broken template (the check can fail)', async () => {
    const run = await exportCfn('--format', 'json');
    const template = JSON.parse(run.stdout);
    template.Resources.LogBucket.Properties.VersioningConfiguration = { Status: 'Sometimes' };
    const r = lintText(JSON.stringify(template), 'broken.json');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/E\d{4}/);
  });

  it('writes the file of -o, the same template as stdout gets, and says where on stderr', async () => {
    const toStdout = await exportCfn();
    for (const [args, name] of [
      [[], 'template.yaml'],
      [['--format', 'json'], 'template.json'],
      // The extension chooses when --format is not given.
      [[], 't.json'],
    ] as const) {
      const run = await exportCfn(...args, '-o', name);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(join(dir, name));
      expect(run.calls).toEqual([]);
      const text = readFileSync(join(dir, name), 'utf8');
      if (name.endsWith('.yaml')) expect(text).toBe(toStdout.stdout);
      else expect(JSON.parse(text).Resources).toHaveProperty('SessionKey');
    }
    // --json: stdout carries one JSON object, the template itself without -o, the report with it.
    const bare = await exportCfn('--json');
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout).AWSTemplateFormatVersion).toBe('2010-09-09');
    const yamlJson = await exportCfn('--json', '--format', 'yaml');
    expect(yamlJson.code).toBe(2);
    expect(yamlJson.stdout).not.toContain('AWSTemplateFormatVersion');
    const json = await exportCfn('--json', '-o', 'out.yaml');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: 'export', ok: true, steps: [{ id: 'export', outputs: { file: join(dir, 'out.yaml') } }] });
  });

  it('takes the settings file like the other commands, and will not overwrite it with the template', async () => {
    const config = join(dir, 'ssm-setup.json');
    writeFileSync(config, '{ "idleTimeout": 45 }\n');
    const run = await exportCfn('--format', 'json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).Parameters.IdleTimeout.Default).toBe(45);

    const clobber = await exportCfn('--format', 'json', '-o', 'ssm-setup.json', '--verbose');
    expect(clobber.code).toBe(2);
    expect(errorCode(clobber)).toBe('OUTPUT_IS_CONFIG');
    expect(readFileSync(config, 'utf8')).toBe('{ "idleTimeout": 45 }\n');
  });

  it('refuses another format, another --format and invalid settings with exit 2, writing nothing', async () => {
    const format = await runCli(['export', 'terraform', '-o', 'x.tf', '--verbose'], { cwd: dir });
    expect(format.code).toBe(2);
    expect(errorCode(format)).toBe('UNKNOWN_FORMAT');
    expect(format.stderr).toContain('cloudformation');

    const style = await exportCfn('--format', 'xml', '-o', 'x.xml', '--verbose');
    expect(style.code).toBe(2);
    expect(errorCode(style)).toBe('UNKNOWN_FORMAT');
    expect(style.stderr).toContain('--format');

    const setting = await exportCfn('--idle-timeout', '99', '-o', 'x.yaml', '--verbose');
    expect(setting.code).toBe(2);
    expect(errorCode(setting)).toBe('INVALID_SETTINGS');
    expect(setting.stderr).toContain('--idle-timeout');

    // Refused by the settings themselves now (no service ssm-setup tags takes a #), before the template.
    const tags = await exportCfn('--tags', 'Note=a#b', '-o', 'x.yaml', '--verbose');
    expect(tags.code).toBe(2);
    expect(errorCode(tags)).toBe('INVALID_SETTINGS');
    expect(tags.stderr).toContain('--tags');

    for (const run of [format, style, setting, tags]) {
      expect(run.stdout).toBe('');
      expect(run.calls).toEqual([]);
    }
    for (const f of ['x.tf', 'x.xml', 'x.yaml']) expect(existsSync(join(dir, f)), f).toBe(false);
  });
});

/**
 * The custom resource's Python, run as Lambda would run it, against the emulator: the
 * CloudFormation response goes to a local HTTP server standing in for the pre-signed S3 URL.
 */
describe.skipIf(!!noBoto3)('the preferences function of the template', () => {
  const NAME = 'SSM-SessionManagerRunShell';
  const doc = (idle: string) => ({
    schemaVersion: '1.0',
    description: 'd',
    sessionType: 'Standard_Stream',
    // As CloudFormation hands them over: every scalar a string.
    inputs: { s3BucketName: 'b', s3EncryptionEnabled: 'true', runAsEnabled: 'false', idleSessionTimeout: idle },
  });
  const typed = (idle: string) => ({ ...doc(idle), inputs: { ...doc(idle).inputs, s3EncryptionEnabled: true, runAsEnabled: false } });

  async function invoke(requestType: 'Create' | 'Update' | 'Delete', document: unknown): Promise<Record<string, any>> {
    const responses: Record<string, any>[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        responses.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const fnDir = mkdtempSync(join(tmpdir(), 'ssm-setup-e2e-fn-'));
    writeFileSync(join(fnDir, 'index.py'), PREFERENCES_FUNCTION_CODE);
    const event = {
      RequestType: requestType,
      ResponseURL: `http://127.0.0.1:${port}/`,
      StackId: 'stack',
      RequestId: 'req',
      LogicalResourceId: 'SessionPreferences',
      ResourceProperties: { Document: document, BooleanFields: ['s3EncryptionEnabled', 'runAsEnabled'], DocumentTags: { ManagedBy: 'ssm-setup' } },
    };
    const driver =
      'import json,sys; sys.path.insert(0, sys.argv[1]); import index\nclass C: log_stream_name = "stream"\nindex.handler(json.loads(sys.stdin.read()), C())';
    const child = spawn('python3', ['-c', driver, fnDir], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_ENDPOINT_URL: endpoint(),
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stderr += d));
    child.stdin.end(JSON.stringify(event));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    server.close();
    expect(code, stderr).toBe(0);
    expect(responses, stderr).toHaveLength(1);
    return responses[0]!;
  }

  const ssm = () => sdk(SSMClient);
  const content = async (version?: string) => JSON.parse((await ssm().send(new GetDocumentCommand({ Name: NAME, DocumentVersion: version }))).Content!);
  const describeDoc = async () => (await ssm().send(new DescribeDocumentCommand({ Name: NAME }))).Document!;

  it('creates the document when it is missing, with real booleans and the ManagedBy tag', async () => {
    const r = await invoke('Create', doc('20'));
    expect(r).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { DocumentVersion: '1' } });
    expect(await content()).toEqual(typed('20'));
    expect((await describeDoc()).Tags).toEqual([{ Key: 'ManagedBy', Value: 'ssm-setup' }]);
  });

  it('adopts an existing document: records its default version, writes a new version and makes it the default', async () => {
    await ssm().send(
      new CreateDocumentCommand({
        Name: NAME,
        Content: JSON.stringify({ ...typed('5'), description: 'theirs' }),
        DocumentType: 'Session',
        DocumentFormat: 'JSON',
      }),
    );
    const r = await invoke('Create', doc('20'));
    expect(r).toMatchObject({ Status: 'SUCCESS', Data: { DocumentVersion: '2' } });
    const d = await describeDoc();
    expect(d.DefaultVersion).toBe('2');
    expect(d.Tags).toEqual([{ Key: 'ssm-setup:original-default-version', Value: '1' }]);
    expect(await content()).toEqual(typed('20'));

    // Back to content an older version holds: that version becomes the default again.
    expect(await invoke('Update', doc('30'))).toMatchObject({ Status: 'SUCCESS', Data: { DocumentVersion: '3' } });
    expect(await invoke('Update', doc('20'))).toMatchObject({ Status: 'SUCCESS', Data: { DocumentVersion: '2' } });
    expect((await describeDoc()).DefaultVersion).toBe('2');
    // Unchanged: no new version.
    expect(await invoke('Update', doc('20'))).toMatchObject({ Status: 'SUCCESS', Data: { DocumentVersion: '2' } });
    expect((await describeDoc()).LatestVersion).toBe('3');
  });

  it('leaves the document as it is on Delete, and reports a failure as FAILED', async () => {
    await invoke('Create', doc('20'));
    const del = await invoke('Delete', doc('20'));
    expect(del).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME });
    expect(await content()).toEqual(typed('20'));

    const bad = await invoke('Update', { schemaVersion: '1.0' });
    expect(bad.Status).toBe('FAILED');
    expect(bad.Reason).toMatch(/KeyError/);
  });
});
