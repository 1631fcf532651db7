// Issue 15: the round trips of the operator-policy read, one after the other (each wave waits for
// an answer of the one before).
import { IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOperatorPolicy } from '../../../src/steps/operator-policy/read.js';
import { fakeIam } from '../../helpers/fake-iam.js';
import { makeContext } from '../../helpers/fixtures.js';
import { callWaves } from '../../helpers/waves.js';

let fake: ReturnType<typeof fakeIam>;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

describe('operator-policy read: round trips', () => {
  it('a user without the policy: the quota is read once the attachments are known, beside the policy’s default version', async () => {
    fake.addPolicy('SSMSessionManagerOperatorPolicy', [{ Version: '2012-10-17', Statement: [] }]);
    fake.addUser('alice');
    const ctx = await makeContext({ operatorUsers: ['alice'] });
    const waves = callWaves(ctx.aws.get(IAMClient));
    const state = await readOperatorPolicy(ctx);
    expect(state.principals).toEqual([{ kind: 'user', name: 'alice', attached: false, policies: [] }]);
    expect(state.quotas?.source).toBe('account');
    expect(waves.waves()).toEqual([
      ['GetPolicy', 'ListAttachedUserPolicies'],
      ['GetAccountSummary', 'GetPolicyVersion'],
    ]);
  });

  it('an unknown user: UNKNOWN_PRINCIPAL, as before', async () => {
    const ctx = await makeContext({ operatorUsers: ['nobody'] });
    await expect(readOperatorPolicy(ctx)).rejects.toMatchObject({ code: 'UNKNOWN_PRINCIPAL' });
  });
});
