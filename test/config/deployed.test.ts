// Issue 14.1: built-in defaults < the deployed state < config file < environment < flags.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, DEFAULTS, loadSettings, withAnswers, withDeployed } from '../../src/config/load.js';
import { writeSettingsFile } from '../../src/config/save.js';
import { unanswered } from '../../src/steps/shared/ask.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ssm-setup-deployed-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DEPLOYED = { cloudwatchLogs: true, idleTimeout: 45, logRetentionDays: 90, runAs: 'ssm-user', logExpirationDays: 400 };
const load = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}) => loadSettings({ flags, env, cwd: dir });

describe('the deployed-state layer', () => {
  it('fills every setting nobody gave with what the account has (source deployed)', async () => {
    const loaded = withDeployed(await load(), DEPLOYED);
    expect(loaded.settings).toMatchObject(DEPLOYED);
    expect(loaded.sources).toMatchObject({ cloudwatchLogs: 'deployed', idleTimeout: 'deployed', runAs: 'deployed', s3Prefix: 'default' });
    expect(loaded.settings.s3Prefix).toBe(DEFAULTS.s3Prefix);
  });

  it('--log-group switches CloudWatch logging on as a flag would: an account without it does not switch it off again', async () => {
    const loaded = withDeployed(await load({ logGroup: '/my/group' }), { cloudwatchLogs: false });
    expect(loaded.settings).toMatchObject({ cloudwatchLogs: true, logGroup: '/my/group' });
    expect(loaded.sources.cloudwatchLogs).toBe('flag');
  });

  it('sits below the config file, the environment and the flags', async () => {
    await writeFile(join(dir, DEFAULT_CONFIG_FILE), JSON.stringify({ idleTimeout: 30 }));
    const loaded = withDeployed(await load({ logRetentionDays: 30 }, { AWS_REGION: 'eu-west-1' }), { ...DEPLOYED, region: 'us-east-1' });
    expect(loaded.settings).toMatchObject({ idleTimeout: 30, logRetentionDays: 30, region: 'eu-west-1', cloudwatchLogs: true, runAs: 'ssm-user' });
    expect(loaded.sources).toMatchObject({ idleTimeout: 'config', logRetentionDays: 'flag', region: 'env', cloudwatchLogs: 'deployed' });
  });

  it('gives way to the wizard, which is asked only what the account has not settled', async () => {
    const deployed = withDeployed(await load(), DEPLOYED);
    const ctx = { sources: deployed.sources };
    expect(unanswered(ctx, 'idleTimeout')).toBe(false);
    expect(unanswered(ctx, 'maxSessionDuration')).toBe(true);
    expect(withAnswers(deployed, { idleTimeout: 60 }).settings.idleTimeout).toBe(60);
  });

  it('settles a value equal to the default too, so the wizard does not ask it again', async () => {
    const loaded = withDeployed(await load(), { idleTimeout: DEFAULTS.idleTimeout });
    expect(loaded.sources.idleTimeout).toBe('deployed');
    expect(loaded.settings.idleTimeout).toBe(DEFAULTS.idleTimeout);
  });

  it('keeps the default for a value set by hand that the settings cannot express, and runs on', async () => {
    const loaded = withDeployed(await load(), { idleTimeout: 9999, cloudwatchLogs: true });
    expect(loaded.settings).toMatchObject({ idleTimeout: DEFAULTS.idleTimeout, cloudwatchLogs: true });
  });

  it('is not written to the config file: it holds what a person chose', async () => {
    const loaded = withDeployed(await load({ keyAlias: 'alias/mine' }), DEPLOYED);
    const path = await writeSettingsFile(loaded, 'us-east-1', dir);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ region: 'us-east-1', keyAlias: 'alias/mine' });
  });
});
