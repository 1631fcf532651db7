import type { StepContext, TargetInstance } from '../../core/step.js';
import { unanswered } from './ask.js';

const ALL = '\u0000all';
const PICK = '\u0000pick';
const NONE = '\u0000none';

/**
 * The wizard's target question, asked once per run by the first instance step: all the
 * region's instances, a shortcut for each of their tags ("all instances tagged Env=prod", the
 * most common first), a checkbox list of them, or none. Picking no instance from the list is
 * confirmed (an empty answer is easy to give by mistake); declining asks the list again.
 * Returns `{ tag }`, `{ instanceIds }` or `{}`.
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
      { value: ALL, label: `All ${instances.length} instance${instances.length === 1 ? '' : 's'} listed` },
      ...tags.map(([tag, n]) => ({ value: tag, label: `All instances tagged ${tag} (${n})` })),
      { value: PICK, label: 'Choose instances from the list…' },
      { value: NONE, label: 'None for now (skip the instance steps)' },
    ],
    default: PICK,
    flag: '--instance-ids or --tag',
  });
  if (mode === NONE) return {};
  if (mode === ALL) return { instanceIds: instances.map((t) => t.id) };
  if (mode !== PICK) return { tag: [mode] };
  for (;;) {
    const instanceIds = await ctx.io.checkbox({
      id: 'targets.instances',
      message: 'Instances (space to select, enter to confirm)',
      choices: instances.map((t) => ({ value: t.id, label: describe(t) })),
      flag: '--instance-ids',
    });
    if (instanceIds.length) return { instanceIds };
    const none = await ctx.io.confirm({
      id: 'targets.confirm-none',
      message: 'No instance selected (space selects one). Skip the instance steps?',
      default: false,
    });
    if (none) return {};
  }
}

function describe(t: TargetInstance): string {
  const profile = t.profileArn ? `profile ${t.profileArn.slice(t.profileArn.lastIndexOf('/') + 1)}` : 'no profile';
  return `${t.name ?? '(no Name)'}  ${t.id}  ${t.state}  ${t.platform}  ${profile}`;
}

/** Every Key=Value of the instances (but Name, which the list shows, and aws: tags), the most common first. */
function commonTags(instances: readonly TargetInstance[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const t of instances) {
    for (const [k, v] of Object.entries(t.tags)) if (k !== 'Name' && !k.startsWith('aws:')) counts.set(`${k}=${v}`, (counts.get(`${k}=${v}`) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
