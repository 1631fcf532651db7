import { CreatePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../../src/core/step.js';
import { operatorPolicy } from '../../../src/policies/operator-policy.js';
import { type PolicyDocument, parsePolicy } from '../../../src/policies/types.js';
import { operatorPolicyStep } from '../../../src/steps/operator-policy/index.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { fakeIam } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';

// The operator policy and the sessions Session Manager never content-logs (SSH, port
// forwarding): the plan names the gap, --deny-unlogged-sessions closes it, and a change that
// opens it again (or widens the access) is marked as a risk, confirmed on its own.

const POLICY = 'SSMSessionManagerOperatorPolicy';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const policyOf = (access: 'restricted' | 'full', denyUnlogged = false): PolicyDocument =>
  operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access, denyUnlogged });

let fake: ReturnType<typeof fakeIam>;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

async function context(flags: Record<string, unknown> = {}): Promise<StepContext> {
  return { ...(await makeContext(flags)), outputs: { kmsKeyArn: KEY_ARN } };
}

describe('operator-policy and unlogged sessions', () => {
  it('--deny-unlogged-sessions: creates the policy with the explicit Deny, and converges (no write on the rerun)', async () => {
    const ctx = await context({ denyUnloggedSessions: true });
    const { changes } = await converge(operatorPolicyStep, ctx);
    expect(kinds(changes)).toEqual(['create-policy']);
    const doc = parsePolicy(fake.iam.commandCalls(CreatePolicyCommand)[0]!.args[0].input.PolicyDocument)!;
    expect(doc).toEqual(policyOf('restricted', true));
    expect(doc.Statement.map((s) => s.Sid)).toContain('DenyUnloggedSessions');

    const writes = fake.writes().length;
    const again = await planned(operatorPolicyStep, ctx);
    expect(again.changes).toEqual([]);
    expect(fake.writes()).toHaveLength(writes);
  });

  it('without it, the plan says once that SSH sessions are not content-logged, naming the switch', async () => {
    fake.addPolicy(POLICY, [policyOf('restricted')]);
    const ctx = await context();
    const { changes, note } = await planned(operatorPolicyStep, ctx);
    expect(changes).toEqual([]);
    expect(note).toContain('AWS-StartSSHSession');
    expect(note).toContain('--deny-unlogged-sessions');
    expect(note!.split('--deny-unlogged-sessions')).toHaveLength(2);
  });

  it('full access: the note names port forwarding too', async () => {
    const { note } = await planned(operatorPolicyStep, await context({ operatorAccess: 'full' }));
    expect(note).toContain('AWS-StartPortForwardingSession');
    expect(note).toContain('--deny-unlogged-sessions');
  });

  it('with it, the plan does not warn of unlogged sessions', async () => {
    fake.addPolicy(POLICY, [policyOf('full', true)]);
    const { note } = await planned(operatorPolicyStep, await context({ operatorAccess: 'full', denyUnloggedSessions: true }));
    expect(note ?? '').not.toContain('AWS-StartSSHSession');
  });

  it('restricted → full weakens security: the update carries the risk', async () => {
    fake.addPolicy(POLICY, [policyOf('restricted')]);
    const { changes } = await planned(operatorPolicyStep, await context({ operatorAccess: 'full' }));
    expect(kinds(changes)).toEqual(['update-policy']);
    expect(changes[0]!.risk).toEqual({ kind: 'weakens-security', why: expect.any(String) });
  });

  it('full → restricted, and switching the Deny on, are not risks', async () => {
    fake.addPolicy(POLICY, [policyOf('full')]);
    const narrower = await planned(operatorPolicyStep, await context({ operatorAccess: 'restricted' }));
    expect(kinds(narrower.changes)).toEqual(['update-policy']);
    expect(narrower.changes[0]!.risk).toBeUndefined();

    const denied = await planned(operatorPolicyStep, await context({ operatorAccess: 'full', denyUnloggedSessions: true }));
    expect(kinds(denied.changes)).toEqual(['update-policy']);
    expect(denied.changes[0]!.risk).toBeUndefined();
  });

  it('turning --deny-unlogged-sessions off on a policy that had the Deny weakens the audit: the update carries the risk', async () => {
    fake.addPolicy(POLICY, [policyOf('restricted', true)]);
    const { changes } = await planned(operatorPolicyStep, await context());
    expect(kinds(changes)).toEqual(['update-policy']);
    expect(changes[0]!.risk).toEqual({ kind: 'weakens-audit', why: expect.any(String) });
  });

  it('both at once: one risk, the stronger kind', async () => {
    fake.addPolicy(POLICY, [policyOf('restricted', true)]);
    const { changes } = await planned(operatorPolicyStep, await context({ operatorAccess: 'full' }));
    expect(changes[0]!.risk?.kind).toBe('weakens-security');
  });
});
