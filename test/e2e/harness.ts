import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { inject } from 'vitest';
import { motoEnv, resetMoto } from '../../scripts/moto.mjs';
import type { CallRecord } from '../../src/aws/calls.js';

export const BIN = join(import.meta.dirname, '../../bin/ssm-setup.js');

/** The emulator's endpoint; refuses anything but loopback so no test can reach AWS. */
export function endpoint(): string {
  const url = inject('motoEndpoint');
  if (!url || !/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to run e2e tests without a loopback endpoint override (got ${url})`);
  return url;
}

export const reset = () => resetMoto(endpoint());

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every AWS call the run made (SSM_SETUP_CALL_LOG). */
  calls: CallRecord[];
  writes: CallRecord[];
}

/** Runs the built CLI (or the launcher `bin`, e.g. of a copy of bin/ and dist/) as a child process against the emulator, with fake credentials. */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; bin?: string } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-setup-e2e-'));
  const log = join(dir, 'calls.jsonl');
  const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
    cwd: opts.cwd ?? dir,
    env: motoEnv(endpoint(), { SSM_SETUP_CALL_LOG: log, CI: 'true', ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const calls = existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as CallRecord)
        : [];
      resolve({ code, stdout, stderr, calls, writes: calls.filter((c) => c.write) });
    });
  });
}

/** The lease a run takes before its first write (src/aws/lease.ts): an SSM parameter put (taken, released), deleted by destroy. */
const LEASE_CALLS = new Set(['PutParameter', 'DeleteParameter']);

/** The writes that changed the setup: every write but the lease's own. */
export const setupWrites = (run: Pick<CliRun, 'writes'>) => run.writes.filter((c) => !(c.service === 'SSM' && LEASE_CALLS.has(c.operation)));

/** The stable error code a run printed (`--verbose` prints `code: X` under the error), or undefined. */
export const errorCode = (run: Pick<CliRun, 'stderr'>) => /^code: ([A-Z_]+)$/m.exec(run.stderr)?.[1];

/** An SDK client of the test itself, to seed and to read back what the CLI did. */
export function sdk<C>(Client: new (config: Record<string, unknown>) => C): C {
  return new Client({
    region: 'us-east-1',
    endpoint: endpoint(),
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    forcePathStyle: true,
  });
}

export const kms = () => sdk(KMSClient);
