import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/base/errors.js';

/** The README's error-code table lists every code of the registry, and no code that is not in it. */
describe('README error codes', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('#### Error codes'), readme.indexOf('\n## ', readme.indexOf('#### Error codes')));
  const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);

  it('lists every code', () => {
    expect(Object.keys(ERROR_CODES).filter((c) => !listed.includes(c))).toEqual([]);
  });

  it('lists only codes that exist', () => {
    expect(listed.filter((c) => !(c! in ERROR_CODES))).toEqual([]);
  });
});
