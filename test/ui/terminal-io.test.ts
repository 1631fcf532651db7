import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalIo } from '../../src/ui/terminal-io.js';

// ora animates only on an interactive stream outside CI: a fake TTY, with CI unset for the test.
let ci: string | undefined;
beforeEach(() => {
  ci = process.env.CI;
  delete process.env.CI;
});
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

function tty() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.on('data', (d) => {
    text += String(d);
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('TerminalIo', () => {
  it('a fleet progress inside a task uses the task spinner: never two spinners at once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const err = tty();
    const io = new TerminalIo({ interactive: false, color: false, stderr: err.stream, stdout: tty().stream });
    await io.task('Applying SSM and CloudWatch agents', async () => {
      const p = io.progress('Updating SSM Agent', 2);
      p.update({ done: 1, failed: 0, pending: 1 });
      io.info('a line in between');
      p.update({ done: 2, failed: 0, pending: 0 });
      p.stop();
    });
    // ora warns through console.warn when a second spinner starts on the same stream.
    expect(warn.mock.calls.flat().join('\n')).not.toContain('Multiple concurrent spinners');
    warn.mockRestore();
    expect(err.text()).toContain('a line in between\n');
    expect(err.text()).toContain('✔ Updating SSM Agent [####################] 2/2 done, 0 failed, 0 pending');
    expect(err.text()).toContain('✔ Applying SSM and CloudWatch agents');
  });

  it('tasks side by side share one spinner that names them all; each is printed as it ends', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const err = tty();
    const io = new TerminalIo({ interactive: false, color: false, stderr: err.stream, stdout: tty().stream });
    let endBucket = () => {};
    const bucket = io.task('Applying S3 bucket', () => new Promise<void>((r) => (endBucket = r)));
    const policy = io.task('Applying IAM policy', async () => {
      // Both are running now: one spinner, naming both.
      expect((io as unknown as { spinner: { text: string } }).spinner.text).toBe('Applying S3 bucket · Applying IAM policy');
    });
    await policy;
    expect(err.text()).toContain('✔ Applying IAM policy');
    expect(err.text()).not.toContain('✔ Applying S3 bucket');
    endBucket();
    await bucket;
    expect(err.text()).toContain('✔ Applying S3 bucket');
    expect(warn.mock.calls.flat().join('\n')).not.toContain('Multiple concurrent spinners');
    warn.mockRestore();
    expect((io as unknown as { spinner?: unknown }).spinner).toBeUndefined();
  });
});
