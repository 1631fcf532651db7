import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertProfileExists } from '../../src/aws/profile.js';
import { UsageError } from '../../src/base/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ssm-setup-profile-'));
const config = join(dir, 'config');
const credentials = join(dir, 'credentials');
writeFileSync(config, '[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n[sso-session corp]\n');
writeFileSync(credentials, '[ci]\naws_access_key_id = x\n');
const env = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };

describe('--profile', () => {
  it.each(['dev', 'default', 'ci'])('accepts profile %s from the shared files', async (p) => {
    await expect(assertProfileExists(p, '--profile', env)).resolves.toBeUndefined();
  });

  it('refuses a profile that is in neither file, naming the flag and listing the profiles', async () => {
    const error = await assertProfileExists('prod', '--profile', env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('UNKNOWN_PROFILE');
    expect((error as UsageError).message).toContain('--profile');
    expect((error as UsageError).hint).toContain('dev');
  });

  it('names AWS_PROFILE when the value came from the environment', async () => {
    const error = await assertProfileExists('nope', 'AWS_PROFILE', { AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('UNKNOWN_PROFILE');
    expect((error as UsageError).message).toContain('AWS_PROFILE');
    expect((error as UsageError).message).not.toContain('--profile');
  });
});
