import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext } from '../context.js';
import { error, ok } from '../finding.js';

/**
 * The instance metadata service: the agent reads its region, identity and the profile's
 * credentials there, so with it disabled no agent registers. An instance without a profile can
 * only register through Default Host Management, which needs IMDSv2 (HttpTokens required).
 * The hop limit is said in the detail: containers on the host that call IMDSv2 need 2. Undefined
 * when EC2 did not list the options. Pure.
 */
export function checkImds(t: TargetInstance, ctx: DiagnoseContext): Checked | undefined {
  const m = t.metadata;
  if (!m) return undefined;
  const check = CHECKS.imds;
  const base = `aws ec2 modify-instance-metadata-options --instance-id ${t.id}`;
  const hops = m.hopLimit === undefined ? '' : `, hop limit ${m.hopLimit}${m.hopLimit < 2 ? ' (containers on the host need 2)' : ''}`;
  if (m.httpEndpoint === 'disabled') {
    const fix = `${base} --http-endpoint enabled${t.profileArn ? '' : ' --http-tokens required'} --region ${ctx.region}`;
    return {
      findings: [error(check, 'the instance metadata service is disabled: the agent gets no region, identity or credentials', fix)],
      cause: { text: 'the instance metadata service is disabled, so the agent has no credentials', fix: [fix] },
    };
  }
  const v2 = m.httpTokens === 'required';
  if (!t.profileArn && !v2) {
    const fix = `${base} --http-tokens required --http-endpoint enabled --region ${ctx.region}`;
    return {
      findings: [
        error(
          check,
          `IMDSv2 is optional (HttpTokens ${m.httpTokens ?? 'unknown'}): Default Host Management, the only way without a profile, needs it required${hops}`,
          fix,
        ),
      ],
      cause: { text: 'Default Host Management needs IMDSv2, and the instance has it optional', fix: [fix] },
    };
  }
  return { findings: [ok(check, `IMDS enabled, IMDSv2 ${v2 ? 'required' : 'optional'}${hops}`)] };
}
