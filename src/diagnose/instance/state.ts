import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext } from '../context.js';
import { error, ok, warn } from '../finding.js';

/** Only running instances register: stopped (or stopping) is the cause; starting is a warning. Pure. */
export function checkState(t: TargetInstance, ctx: DiagnoseContext): Checked {
  const check = CHECKS.state;
  if (t.state === 'running') return { findings: [ok(check, 'running')] };
  if (t.state === 'stopped' || t.state === 'stopping') {
    const fix = `aws ec2 start-instances --instance-ids ${t.id} --region ${ctx.region}`;
    return {
      findings: [error(check, `${t.state}: only running instances register with Systems Manager`, fix)],
      cause: { text: `the instance is ${t.state}`, fix: [fix] },
    };
  }
  if (t.state === 'pending') return { findings: [warn(check, 'starting: the agent registers a minute or two after boot')] };
  return { findings: [warn(check, `state ${t.state}`)] };
}
