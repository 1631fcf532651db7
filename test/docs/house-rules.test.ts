import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The rules of docs/ARCHITECTURE.md that neither the compiler, Biome nor dependency-cruiser can
 * check: small files, comments that cite this repository, and no exit below the launcher.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const files = sources(join(ROOT, 'src')).map((f) => ({ path: relative(ROOT, f), text: readFileSync(f, 'utf8') }));

describe('house rules of src/', () => {
  it('no source file is over 300 lines', () => {
    expect(files.filter((f) => f.text.split('\n').length > 301).map((f) => f.path)).toEqual([]);
  });

  it('no source file cites the reference folder outside the repository', () => {
    // `../shared/` from a step folder is src/steps/shared; the reference folder is ../shared/design and the like.
    const outside = /\.\.\/shared\/(design|runbook|hooks)\b/;
    expect(files.filter((f) => outside.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  it('nothing below the launcher calls process.exit (main returns the exit code)', () => {
    expect(files.filter((f) => /process\.exit\s*\(/.test(f.text)).map((f) => f.path)).toEqual([]);
  });
});
