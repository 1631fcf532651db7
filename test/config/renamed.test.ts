import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';

// --tags was renamed --resource-tags (too close to --tag, the target filter): the old name still
// works, as a flag and as a config key, with a warning naming the new one; errors name what was typed.
const load = (flags: Record<string, unknown>, file?: object) => {
  const cwd = mkdtempSync(join(tmpdir(), 'ssm-setup-renamed-'));
  if (file) writeFileSync(join(cwd, 'ssm-setup.json'), JSON.stringify(file));
  return loadSettings({ flags, env: {}, cwd });
};

describe('--tags, the old name of --resource-tags', () => {
  it('as a flag: taken, with a warning', async () => {
    const loaded = await load({ tags: 'Team=ops' });
    expect(loaded.settings.resourceTags).toEqual({ Team: 'ops' });
    expect(loaded.warnings).toEqual(['--tags is now --resource-tags (the old name still works for now)']);
  });

  it('as a config key: taken, with a warning naming the key and the file', async () => {
    const loaded = await load({}, { tags: { Team: 'ops' } });
    expect(loaded.settings.resourceTags).toEqual({ Team: 'ops' });
    expect(loaded.warnings?.[0]).toMatch(/^"tags" in .*ssm-setup\.json is now "resourceTags"/);
  });

  it('the new name: no warning', async () => {
    const loaded = await load({ resourceTags: 'Team=ops' });
    expect(loaded.settings.resourceTags).toEqual({ Team: 'ops' });
    expect(loaded.warnings).toBeUndefined();
  });

  it('a bad value given under the old name is named as typed', async () => {
    const err = await load({ tags: 'Note=a#b' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_SETTINGS' });
    expect((err as Error).message).toMatch(/^--tags "Note=a#b": /);
    const fileErr = await load({}, { tags: { Note: 'a#b' } }).catch((e: unknown) => e);
    expect((fileErr as Error).message).toMatch(/^"tags" in .*ssm-setup\.json "Note=a#b": /);
  });
});
