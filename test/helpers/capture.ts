import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Captures what the in-process CLI (`main()`) writes to stdout and stderr during each test of
 * the calling suite, and resets the exit code after it.
 */
export function captureOutput() {
  const text = { stdout: [] as string[], stderr: [] as string[] };
  beforeEach(() => {
    text.stdout = [];
    text.stderr = [];
    for (const [stream, into] of [
      [process.stdout, 'stdout'],
      [process.stderr, 'stderr'],
    ] as const) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        text[into].push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  return {
    out: () => text.stdout.join(''),
    err: () => text.stderr.join(''),
    /** Forget what was written so far (within one test). */
    clear: () => {
      text.stdout.length = 0;
      text.stderr.length = 0;
    },
  };
}
