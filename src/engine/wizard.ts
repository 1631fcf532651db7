import type { LoadedSettings } from '../config/load.js';
import { withAnswers } from '../config/load.js';
import type { Io } from '../core/io.js';
import type { AnyStep, StepContext } from '../core/step.js';
import type { StepEntry } from './catalog.js';

/**
 * The wizard of an interactive `init`: a short intro, then each step's questions under a
 * heading with a counter (`[2/5] S3 bucket for session logs`), shown only for the steps that
 * still ask something (what flags, the config file or the account settle is never asked).
 * Returns the settings with the answers merged in (source `prompt`).
 */
export async function runWizard(
  entries: readonly StepEntry[],
  steps: ReadonlyMap<string, AnyStep>,
  loaded: LoadedSettings,
  ctx: (loaded: LoadedSettings) => StepContext,
): Promise<LoadedSettings> {
  const asking = entries.filter((e) => steps.get(e.id)?.ask);
  const io = ctx(loaded).io;
  io.info(
    'Answer what the flags, the config file and the account do not settle yet: Enter keeps the value shown; nothing changes before you confirm the plan, and Ctrl-C quits.',
  );
  let current = loaded;
  for (const [n, entry] of asking.entries()) {
    const base = ctx(current);
    const headed = withHeading(base.io, `[${n + 1}/${asking.length}] ${entry.title}`);
    const answers = (await steps.get(entry.id)?.ask?.({ ...base, io: headed })) ?? {};
    if (Object.keys(answers).length) current = withAnswers(current, answers);
  }
  return current;
}

/** The same Io, printing `heading` once, before its first question or line. */
function withHeading(io: Io, heading: string): Io {
  let shown = false;
  const first = () => {
    if (!shown) io.info(heading);
    shown = true;
  };
  const before =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      first();
      return f(...a);
    };
  return Object.assign(Object.create(io) as Io, {
    info: before(io.info.bind(io)),
    warn: before(io.warn.bind(io)),
    confirm: before(io.confirm.bind(io)),
    select: before(io.select.bind(io)),
    input: before(io.input.bind(io)),
    checkbox: before(io.checkbox.bind(io)),
  });
}
