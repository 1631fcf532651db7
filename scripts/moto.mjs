// Starts and stops moto_server, the local AWS emulator, on a free loopback port. Shared by the
// e2e test harness (test/e2e/), `npm run demo` and `npm run bench`. Never any address but 127.0.0.1.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const MOTO_HOST = '127.0.0.1';

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, MOTO_HOST, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `moto_server -H 127.0.0.1 -p <free port>` with the AWS managed IAM policies loaded and
 * waits until it answers. Returns its endpoint, PID and a stop() that kills that PID.
 * @returns {Promise<{ endpoint: string, pid: number, stop: () => Promise<void> }>}
 */
export async function startMoto({ timeoutMs = 30_000 } = {}) {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', MOTO_HOST, '-p', String(port)], {
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const endpoint = `http://${MOTO_HOST}:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    pid: /** @type {number} */ (child.pid),
    async stop() {
      if (child.exitCode !== null) return;
      process.kill(/** @type {number} */ (child.pid), 'SIGTERM');
      const killed = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
      if (!killed) process.kill(/** @type {number} */ (child.pid), 'SIGKILL');
    },
  };
}

/**
 * Clears every service of the emulator.
 * @param {string} endpoint
 */
export async function resetMoto(endpoint) {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

/**
 * Environment for a child ssm-setup run against the emulator: fake credentials only.
 * @param {string} endpoint
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
export function motoEnv(endpoint, extra = {}) {
  const env = /** @type {Record<string, string>} */ ({ ...process.env });
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete env[k];
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...extra,
  };
}
