import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, reset, runCli } from './harness.js';

beforeEach(reset);

const ROOT = dirname(dirname(BIN));
const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of bin/ and dist/ without any code cache: its runs share no cache with the other tests' runs. */
function freshCopy(): { bin: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'ssm-setup-cache-'));
  copies.push(root);
  cpSync(join(ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true, filter: (src) => !src.includes('.v8-cache') });
  const build = /^\/\/ ssm-setup build (\w+)\n/.exec(readFileSync(join(root, 'dist/main.cjs'), 'utf8'))?.[1];
  expect(build).toBeDefined();
  return { bin: join(root, 'bin/ssm-setup.js'), cacheDir: join(root, 'dist/.v8-cache', build!) };
}

const writtenAt = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]));

describe('the V8 code cache of the bundle (bin/ssm-setup.js, dist/.v8-cache)', () => {
  it('the first run writes the caches of the scripts it loaded; the next reads them, writes none and prints the same', async () => {
    const { bin, cacheDir } = freshCopy();
    const first = await runCli(['plan'], { bin });
    expect(first.code, first.stderr).toBe(0);
    const written = writtenAt(cacheDir);
    expect(Object.keys(written)).toContain('main.cjs');
    expect(Object.keys(written).filter((f) => f.startsWith('chunk-')).length).toBeGreaterThan(10);
    const second = await runCli(['plan'], { bin });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(writtenAt(cacheDir)).toEqual(written);
  });

  it('a cache V8 refuses is compiled past, and written again', async () => {
    const { bin, cacheDir } = freshCopy();
    expect((await runCli(['plan'], { bin })).code).toBe(0);
    const main = join(cacheDir, 'main.cjs');
    writeFileSync(main, 'not a code cache');
    const run = await runCli(['plan'], { bin });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(main, 'utf8')).not.toBe('not a code cache');
  });

  it('SSM_SETUP_NO_CODE_CACHE=1 writes none', async () => {
    const { bin, cacheDir } = freshCopy();
    const run = await runCli(['plan'], { bin, env: { SSM_SETUP_NO_CODE_CACHE: '1' } });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(dirname(cacheDir))).toBe(false);
  });
});
