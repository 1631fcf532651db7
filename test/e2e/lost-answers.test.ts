// Issue 13 item 1, end to end: the built CLI against moto, through a loopback proxy that forwards
// the first CreateKey to moto and then drops the connection instead of answering
// (lossy-proxy.ts). The CLI sends CreateKey without automatic retries, sees the reset, finds the
// key the call made (by its tags) and puts the alias on it: exit 0 with one key, not two. Exit 0
// rather than LOST_ANSWER because the key can be found: the run's work is done, and failing it
// would only make the operator rerun to reach the same state.
import { DescribeKeyCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpoint, kms, reset, runCli } from './harness.js';
import { firstOf, type LossyProxy, startLossyProxy } from './lossy-proxy.js';

const ALIAS = 'alias/ssm-session-manager';
let proxy: LossyProxy | undefined;

beforeEach(reset);
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** Keys that carry ssm-setup's tags for ALIAS. */
async function ourKeys(): Promise<string[]> {
  const ids: string[] = [];
  for (const k of (await kms().send(new ListKeysCommand({}))).Keys ?? []) {
    const tags = Object.fromEntries(((await kms().send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags ?? []).map((t) => [t.TagKey, t.TagValue]));
    if (tags.ManagedBy === 'ssm-setup' && tags['ssm-setup:alias'] === ALIAS) ids.push(k.KeyId!);
  }
  return ids;
}

describe('a lost answer, end to end', () => {
  it('init --yes whose CreateKey answer is lost: one key of ours with the alias, exit 0; a rerun writes nothing', async () => {
    proxy = await startLossyProxy(
      endpoint(),
      firstOf((r) => r.target === 'TrentService.CreateKey'),
    );
    const via = { env: { AWS_ENDPOINT_URL: proxy.url } };
    const run = await runCli(['init', '--yes', '--verbose'], via);
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.lost.map((r) => r.target)).toEqual(['TrentService.CreateKey']);
    // One CreateKey was sent, and not resent: the key it made was found.
    expect(run.calls.filter((c) => c.service === 'KMS' && c.operation === 'CreateKey')).toHaveLength(1);

    const ours = await ourKeys();
    expect(ours).toHaveLength(1);
    expect((await kms().send(new ListKeysCommand({}))).Keys).toHaveLength(1);
    expect((await kms().send(new DescribeKeyCommand({ KeyId: ALIAS }))).KeyMetadata?.KeyId).toBe(ours[0]);
    expect(run.stdout).toContain(ours[0]);

    const rerun = await runCli(['init', '--yes'], via);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.writes).toEqual([]);
    expect(proxy.lost).toHaveLength(1);
  });
});
