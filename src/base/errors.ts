/**
 * Typed errors. Nothing below src/cli prints or exits: it throws one of these, and
 * src/cli/main.ts turns it into one message and one exit code (src/cli/exit-codes.ts).
 */
export class SetupError extends Error {
  /** One line telling the operator what to do next, printed under the message. */
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Bad flag, config key, step id or instance id: nothing was changed (exit 2). */
export class UsageError extends SetupError {
  /** Every problem found, each naming its flag or config key; `message` joins them. */
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], opts: { hint?: string } = {}) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.length === 1 ? list[0]! : `Invalid input:\n${list.map((p) => `  - ${p}`).join('\n')}`, opts);
    this.problems = list;
  }
}

/** The operator declined a confirmation or pressed Ctrl-C (exit 130). */
export class AbortedError extends SetupError {}

/** A step could not be read, planned or applied (exit 1). */
export class StepError extends SetupError {
  constructor(
    readonly stepId: string,
    message: string,
    opts: { hint?: string; cause?: unknown; call?: string; outputs?: Record<string, unknown> } = {},
  ) {
    super(message, opts);
    this.call = opts.call;
    this.outputs = opts.outputs;
  }
  /** The AWS call that failed, as `Service.Operation`, when an AWS call failed. */
  readonly call?: string;
  /** What the step did finish before it failed (e.g. the instances that succeeded), for the report. */
  readonly outputs?: Record<string, unknown>;
}

/** Anything else with AWS that is not a step's fault: credentials, identity (exit 1). */
export class AwsError extends SetupError {}
