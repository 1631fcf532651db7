import { checkSetting, type Settings } from '../../config/schema.js';
import { settingSpec } from '../../config/settings.js';
import type { ReadContext, StepContext } from '../../core/step.js';

const OTHER = '\u0000other';
type NameKey = 'keyAlias' | 'bucket' | 'logGroup';
type NumberKey = 'logTransitionDays' | 'logExpirationDays' | 'logRetentionDays' | 'idleTimeout';

/** The wizard asks only about settings nobody settled: not flags, config or env, nor what the account already has. */
export const unanswered = (ctx: Pick<ReadContext, 'sources'>, key: keyof Settings) => (ctx.sources[key] ?? 'default') === 'default';

/**
 * Offers the existing resources of the account beside creating one with the proposed name,
 * plus "another name…" (typed, validated by the setting's own rule). Returns the name.
 */
export async function pickName(
  ctx: StepContext,
  opts: { id: string; message: string; key: NameKey; proposed: string; existing: readonly string[]; what: string },
): Promise<string> {
  const { proposed, existing } = opts;
  const flag = settingSpec(opts.key)!.flag;
  const choices = [
    { value: proposed, label: existing.includes(proposed) ? `${proposed} (existing ${opts.what})` : `Create a new ${opts.what}: ${proposed}` },
    ...existing.filter((e) => e !== proposed).map((e) => ({ value: e, label: `${e} (existing ${opts.what})` })),
    { value: OTHER, label: 'Another name…' },
  ];
  const picked = await ctx.io.select({ id: opts.id, message: opts.message, choices, default: proposed, flag });
  if (picked !== OTHER) return picked;
  return ctx.io.input({
    id: `${opts.id}-name`,
    message: `Name of the ${opts.what} (created when it does not exist)`,
    default: proposed,
    flag,
    validate: (v) => checkSetting(opts.key, v),
  });
}

/** Asks for a whole number with the current value as default, checked by the setting's rule (+ `extra`). */
export async function askNumber(
  ctx: StepContext,
  opts: { id: string; message: string; key: NumberKey; extra?: (n: number) => string | true; default?: number },
): Promise<number> {
  const answer = await ctx.io.input({
    id: opts.id,
    message: opts.message,
    default: String(opts.default ?? ctx.settings[opts.key]),
    flag: settingSpec(opts.key)!.flag,
    validate: (v) => {
      const n = /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
      const ok = checkSetting(opts.key, n);
      return ok === true ? (opts.extra?.(n) ?? true) : ok;
    },
  });
  return Number(answer);
}
