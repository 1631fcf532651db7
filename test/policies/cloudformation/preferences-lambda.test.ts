import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PREFERENCES_FUNCTION_CODE } from '../../../src/policies/cloudformation/preferences-lambda.js';
import { hasPython, templateOf } from './helpers.js';

describe('the preferences function', () => {
  it('keeps the inline function within the 4096 characters CloudFormation takes, and it leaves the document alone on Delete', async () => {
    expect(PREFERENCES_FUNCTION_CODE.length).toBeLessThanOrEqual(4096);
    expect(PREFERENCES_FUNCTION_CODE).toMatch(/if event\['RequestType'\] == 'Delete':\n\s+return send\(event, context, True/);
    const t = await templateOf();
    expect(t.Resources.PreferencesFunction.Properties.Code.ZipFile).toBe(PREFERENCES_FUNCTION_CODE);
  });

  it.skipIf(!hasPython())('the inline function is valid Python', () => {
    const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: PREFERENCES_FUNCTION_CODE, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
