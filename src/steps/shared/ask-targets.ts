import type { StepContext, TargetInstance } from '../../core/step.js';
import { unanswered } from './ask.js';

const PICK = '\u0000pick';
const NONE = '\u0000none';
/** Tag shortcuts offered: the most common Key=Value pairs of the region's instances. */
const SHORTCUTS = 5;

/**
 * The wizard's target question, asked once per run by the first instance step: a tag
 * shortcut ("all instances tagged Env=prod"), a checkbox list of the region's instances, or
 * none. Returns `{ tag }`, `{ instanceIds }` or `{}`.
 */
export async function askTargets(ctx: StepContext): Promise<Record<string, unknown>> {
  if (!unanswered(ctx, 'instanceIds') || !unanswered(ctx, 'tag')) return {};
  const { describeInstances } = await import('../../aws/targets.js');
  const instances = await describeInstances(ctx.aws);
  if (!instances.length) {
    ctx.io.info(`No running or stopped instances in ${ctx.region}: the instance steps have nothing to do.`);
    return {};
  }
  const tags = commonTags(instances);
  const mode = await ctx.io.select({
    id: 'targets.mode',
    message: `Which instances get Session Manager? (${instances.length} in ${ctx.region})`,
    choices: [
      ...tags.map(([tag, n]) => ({ value: tag, label: `All instances tagged ${tag} (${n})` })),
      { value: PICK, label: 'Choose instances from the list…' },
      { value: NONE, label: 'None for now (skip the instance steps)' },
    ],
    default: PICK,
    flag: '--instance-ids or --tag',
  });
  if (mode === NONE) return {};
  if (mode !== PICK) return { tag: [mode] };
  const instanceIds = await ctx.io.checkbox({
    id: 'targets.instances',
    message: 'Instances (space to select, enter to confirm)',
    choices: instances.map((t) => ({ value: t.id, label: describe(t) })),
    flag: '--instance-ids',
  });
  return instanceIds.length ? { instanceIds } : {};
}

function describe(t: TargetInstance): string {
  const profile = t.profileArn ? `profile ${t.profileArn.slice(t.profileArn.lastIndexOf('/') + 1)}` : 'no profile';
  return `${t.name ?? '(no Name)'}  ${t.id}  ${t.state}  ${t.platform}  ${profile}`;
}

function commonTags(instances: readonly TargetInstance[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const t of instances) {
    for (const [k, v] of Object.entries(t.tags)) if (k !== 'Name' && !k.startsWith('aws:')) counts.set(`${k}=${v}`, (counts.get(`${k}=${v}`) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, n]) => n > 1)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, SHORTCUTS);
}
