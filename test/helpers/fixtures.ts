import { CallRecorder } from '../../src/aws/calls.js';
import { AwsClients, type Identity } from '../../src/aws/clients.js';
import { type LoadedSettings, loadSettings } from '../../src/config/load.js';
import type { Io } from '../../src/core/io.js';
import type { StepContext, TargetInstance } from '../../src/core/step.js';
import { TestIo } from './test-io.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const IDENTITY: Identity = { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAALICE', partition: 'aws' };

/** Settings as if typed as flags (validated like the CLI does). */
export const settingsFrom = (flags: Record<string, unknown> = {}): Promise<LoadedSettings> =>
  loadSettings({ flags, env: {}, cwd: '/nonexistent-dir-for-tests' });

/** Clients aimed at a closed loopback port: only aws-sdk-client-mock answers. `region` is the clients' region (fakes read it). */
export const testClients = (region = REGION) => new AwsClients({ region, endpointUrl: 'http://127.0.0.1:9' }, new CallRecorder(''));

/** A step context in `region` (default REGION), its clients aimed at that region too. */
export async function makeContext(
  flags: Record<string, unknown> = {},
  io: Io = new TestIo(),
  targets: readonly TargetInstance[] = [],
  region = REGION,
): Promise<StepContext> {
  const loaded = await settingsFrom(flags);
  return {
    settings: loaded.settings,
    sources: loaded.sources,
    identity: IDENTITY,
    region,
    outputs: {},
    aws: testClients(region),
    io,
    targets: async () => targets,
  };
}
