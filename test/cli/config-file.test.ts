// Issue 14.6/14.7: after init or run, the config file is kept in step with the run: offered in a
// terminal, named otherwise, never asked about when nothing would change.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { offerSettingsFile } from '../../src/cli/commands/config-file.js';
import { DEFAULT_CONFIG_FILE, type LoadedSettings, loadSettings, withDeployed } from '../../src/config/load.js';
import type { RunReport, StepStatus } from '../../src/core/report.js';
import { TestIo } from '../helpers/test-io.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ssm-setup-file-'));
});
const file = () => join(dir, DEFAULT_CONFIG_FILE);
const load = (flags: Record<string, unknown> = {}) => loadSettings({ flags: { region: 'eu-west-1', ...flags }, env: {}, cwd: dir });
const result = (loaded: LoadedSettings, status: StepStatus = 'unchanged') => ({
  loaded,
  report: { command: 'init', region: 'eu-west-1', ok: true, steps: [{ id: 'preferences', title: 'p', status, changes: [], outputs: {} }] } as RunReport,
});
const offer = (r: ReturnType<typeof result>, io: TestIo, command: 'init' | 'run' = 'init') => offerSettingsFile(r, io, command, dir);

describe('the config file after a run', () => {
  it('init without a file that changed nothing asks nothing and writes nothing', async () => {
    const io = new TestIo({});
    await offer(result(withDeployed(await load(), { idleTimeout: 45 })), io);
    expect(io.prompts).toEqual([]);
    await expect(readFile(file(), 'utf8')).rejects.toThrow();
  });

  it('init that set something up offers to save the answers (init.save-config)', async () => {
    const io = new TestIo({ 'init.save-config': true });
    await offer(result(await load({ idleTimeout: '30' }), 'created'), io);
    expect(io.prompts).toEqual(['init.save-config']);
    expect(JSON.parse(await readFile(file(), 'utf8'))).toEqual({ region: 'eu-west-1', idleTimeout: 30 });
  });

  it('a file that already says what the run did: nothing asked', async () => {
    await writeFile(file(), JSON.stringify({ region: 'eu-west-1', idleTimeout: 30 }));
    const io = new TestIo({});
    await offer(result(await load({ idleTimeout: '30' }), 'updated'), io, 'run');
    expect(io.prompts).toEqual([]);
    expect(io.lines).toEqual([]);
  });

  it('what the file itself says is no difference: a file without a region, or with an old key name, is not offered again', async () => {
    await writeFile(file(), JSON.stringify({ idleTimeout: 30, tags: { Team: 'ops' } }));
    const loaded = await loadSettings({ flags: {}, env: { AWS_REGION: 'eu-west-1' }, cwd: dir });
    const io = new TestIo({}, { interactive: false });
    await offer(result(loaded, 'updated'), io, 'run');
    expect(io.prompts).toEqual([]);
    expect(io.lines.filter((l) => l.startsWith('warn:') && l.includes('differs'))).toEqual([]);
  });

  it('run with a flag the file contradicts: in a terminal, offers to update it (run.save-config)', async () => {
    await writeFile(file(), JSON.stringify({ region: 'eu-west-1', idleTimeout: 20, bucket: 'kept' }));
    const io = new TestIo({ 'run.save-config': true });
    await offer(result(await load({ idleTimeout: '45' }), 'updated'), io, 'run');
    expect(io.prompts).toEqual(['run.save-config']);
    expect(JSON.parse(await readFile(file(), 'utf8'))).toEqual({ region: 'eu-west-1', idleTimeout: 45, bucket: 'kept' });
  });

  it('without a terminal, names the keys that now differ and leaves the file alone', async () => {
    const before = JSON.stringify({ region: 'eu-west-1', idleTimeout: 20 });
    await writeFile(file(), before);
    const io = new TestIo({}, { interactive: false });
    await offer(result(await load({ idleTimeout: '45', runAs: 'ops' }), 'updated'), io, 'run');
    expect(io.prompts).toEqual([]);
    expect(io.lines.filter((l) => l.startsWith('warn:'))).toHaveLength(1);
    expect(io.lines[0]).toContain('idleTimeout, runAs');
    expect(await readFile(file(), 'utf8')).toBe(before);
  });

  it('a file that cannot be written is said, not offered', async () => {
    await writeFile(join(dir, 'a-file'), '');
    // (Root writes anywhere, so the unwritable place is a file where the directory should be.)
    const io = new TestIo({});
    const unwritable = { ...(await load({ idleTimeout: '45' })), configFile: join(dir, 'a-file', 'ssm-setup.json') };
    await offer(result(unwritable, 'created'), io);
    expect(io.prompts).toEqual([]);
    expect(io.lines.some((l) => l.startsWith('warn:') && l.includes('cannot be written'))).toBe(true);
  });
});
