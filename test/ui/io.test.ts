import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import type { RunReport } from '../../src/core/report.js';
import { PlainIo } from '../../src/ui/base-io.js';
import { JsonIo } from '../../src/ui/json-io.js';
import { renderSummary } from '../../src/ui/render.js';

function streams() {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (d) => (text.out += d));
  err.on('data', (d) => (text.err += d));
  return { stdout: out, stderr: err, text };
}

const report = (over: Partial<RunReport> = {}): RunReport => ({
  command: 'init',
  account: '123456789012',
  region: 'eu-west-1',
  ok: true,
  steps: [
    {
      id: 'kms-key',
      title: 'KMS key',
      status: 'pending',
      changes: [
        { action: 'create', resource: 'KMS key', detail: 'symmetric' },
        { action: 'update', resource: 'key rotation', detail: 'off → on' },
      ],
      outputs: {},
    },
    { id: 'log-bucket', title: 'Bucket', status: 'skipped', changes: [], outputs: {}, note: 'not available in this version yet' },
    { id: 'log-group', title: 'Group', status: 'skipped', changes: [], outputs: {}, note: 'not available in this version yet' },
  ],
  ...over,
});

describe('non-interactive Io', () => {
  it('never prompts: a question without a default is a UsageError naming the flag', async () => {
    const io = new PlainIo({ ...streams() });
    const error = await io.input({ id: 'x.name', message: 'Bucket name', flag: '--bucket' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('MISSING_INPUT');
    expect((error as UsageError).message).toContain('--bucket');
    await expect(io.select({ id: 'x', message: 'Pick', flag: '--key-alias', choices: [] })).rejects.toMatchObject({
      code: 'MISSING_INPUT',
      message: expect.stringContaining('--key-alias'),
    });
  });

  it('answers with the default when there is one', async () => {
    const io = new PlainIo({ ...streams() });
    expect(await io.input({ id: 'x', message: 'm', flag: '--f', default: 'd' })).toBe('d');
  });

  it('confirms under --yes and says so; without --yes it names --yes', async () => {
    const s = streams();
    expect(
      await new PlainIo({ stdout: s.stdout, stderr: s.stderr, yes: true }).confirm({ id: 'runner.apply', message: 'Apply 2 changes?', default: true }),
    ).toBe(true);
    expect(s.text.err).toContain('Apply 2 changes? yes (auto-confirmed: --yes)');
    await expect(new PlainIo({ ...streams() }).confirm({ id: 'runner.apply', message: 'Apply?', default: true })).rejects.toMatchObject({
      code: 'NEEDS_YES',
      message: expect.stringContaining('--yes'),
    });
  });

  it('writes progress to stderr and the plan and summary to stdout', async () => {
    const s = streams();
    const io = new PlainIo({ stdout: s.stdout, stderr: s.stderr });
    await io.task('Reading key', async () => 1);
    io.plan(report());
    io.result(report());
    expect(s.text.err).toMatch(/^- Reading key…\n✔ Reading key \(\d+\.\ds\)\n$/);
    expect(s.text.out).toContain('+ create KMS key: symmetric');
    expect(s.text.out).toContain('Summary (init');
  });
});

describe('JSON Io', () => {
  it('prints exactly one JSON object on stdout, in the contract shape', async () => {
    const s = streams();
    const io = new JsonIo({ stdout: s.stdout, stderr: s.stderr, yes: true });
    await io.task('Reading', async () => 1);
    io.plan(report());
    io.result(
      report({
        steps: [
          {
            id: 'kms-key',
            title: 'KMS key',
            status: 'created',
            changes: [{ action: 'create', resource: 'KMS key', detail: 'd' }],
            outputs: { kmsKeyArn: 'arn:k' },
          },
        ],
      }),
    );
    const parsed = JSON.parse(s.text.out) as RunReport;
    expect(Object.keys(parsed)).toEqual(['command', 'account', 'region', 'ok', 'steps']);
    expect(parsed.steps[0]).toEqual({
      id: 'kms-key',
      title: 'KMS key',
      status: 'created',
      changes: [{ action: 'create', resource: 'KMS key', detail: 'd' }],
      outputs: { kmsKeyArn: 'arn:k' },
    });
    expect(s.text.err).toContain('Reading');
  });
});

describe('render', () => {
  it('the summary names the failed step, the AWS call and the fix', () => {
    const text = renderSummary(
      report({
        ok: false,
        steps: [
          {
            id: 'kms-key',
            title: 'KMS key',
            status: 'failed',
            changes: [],
            outputs: {},
            error: { code: 'ACCESS_DENIED', message: 'AccessDeniedException: no', call: 'KMS.CreateKey', hint: 'grant kms:CreateKey' },
          },
        ],
      }),
    );
    expect(text).toContain('Error in step kms-key, AWS call KMS.CreateKey: AccessDeniedException: no');
    expect(text).toContain('Fix: grant kms:CreateKey');
  });
});
