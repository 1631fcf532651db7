import type { Settings } from '../config/schema.js';
import type { Clients, Identity } from './clients.js';
import type { Io } from './io.js';
import type { ChangeView } from './report.js';

/** Values a step publishes for later steps (ARNs, names). */
export interface StepOutputs {
  instancePolicyArn?: string;
  /** Roles the instance policy is attached to. */
  instanceRoles?: string[];
  /** Instance id → the instance profile it uses. */
  instanceProfiles?: Record<string, string>;
  /** Instances this run gave an instance profile: their agent registers within minutes, not at once. */
  justAssociated?: string[];
  operatorPolicyArn?: string;
  /** The default version of SSM-SessionManagerRunShell after the preferences step. */
  preferencesVersion?: string;
  /** Instance id → what the agents step did there. */
  agentResults?: Record<string, string>;
  /** Instance id → why Run Command cannot reach it, and the fix. */
  unmanaged?: Record<string, string>;
  /** Names of the host-management associations. */
  associations?: string[];
  /** Instance id → `ready`, or its first problem (the check step). */
  readiness?: Record<string, string>;
  kmsKeyId?: string;
  kmsKeyArn?: string;
  kmsKeyAlias?: string;
  /**
   * The key was created, or its policy changed, in this run: calls that use it right after
   * (CreateAlias, EnableKeyRotation, CreateLogGroup, AssociateKmsKey) retry briefly while KMS
   * catches up (eventual consistency).
   */
  kmsKeyChanged?: boolean;
  bucketName?: string;
  bucketArn?: string;
  s3Prefix?: string;
  logGroupName?: string;
  logGroupArn?: string;
  /**
   * Targets that reach Systems Manager only through VPC endpoints this run creates (the
   * vpc-endpoints step): `agents` waits, for a bounded time, for them to come Online.
   */
  endpointTargets?: string[];
}

/** One planned change; `kind` tells `apply` what to do, the rest is what a person reads. */
export interface Change<K extends string = string> extends ChangeView {
  readonly kind: K;
  /** What the change applies to when a step changes many things of one kind (a role, an instance id). */
  readonly subject?: string;
}

/** An EC2 instance the instance steps work on (running or stopped). */
export interface TargetInstance {
  readonly id: string;
  readonly name?: string;
  readonly state: string;
  readonly platform: string;
  /** The instance profile it has now, if any. */
  readonly profileArn?: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly imageId?: string;
  /** `x86_64` or `arm64`. */
  readonly architecture?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly securityGroupIds?: readonly string[];
  /** The instance metadata service options (EC2 MetadataOptions), when EC2 listed them. */
  readonly metadata?: { readonly httpEndpoint?: string; readonly httpTokens?: string; readonly hopLimit?: number };
  readonly tags: Readonly<Record<string, string>>;
}

/** What a step's pure `plan` sees: settings, who and where we are, outputs of earlier steps. */
export interface PlanInput {
  readonly settings: Settings;
  readonly identity: Identity;
  readonly region: string;
  /** Outputs known so far; a value an earlier step will only create is still undefined. */
  readonly outputs: Readonly<StepOutputs>;
  /**
   * The steps chosen for this run (`init`: all; `run`: the named ones). A step that needs
   * something another step owns (the key policy for a log group) plans it itself only when
   * that step is not chosen. Undefined: the step runs on its own (unit tests).
   */
  readonly selected?: ReadonlySet<string>;
}

/**
 * What a step's `read` sees: the plan's inputs plus AWS and the targets, but no `Io`, so a
 * read cannot prompt or print, by type (as `PlanInput` keeps `plan` pure).
 */
export interface ReadContext extends PlanInput {
  readonly aws: Clients;
  /** The layer each setting came from: the wizard asks only about `default` ones. */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * The target instances (`--instance-ids`, `--tag`), resolved once per run on first use;
   * empty when none were chosen. Unknown ids are a UsageError.
   */
  targets(): Promise<readonly TargetInstance[]>;
}

/** Everything a step may touch while asking or applying: the read context plus the person. */
export interface StepContext extends ReadContext {
  readonly io: Io;
  /**
   * While applying: what the steps that depend on this one need exists now (the key, before its
   * alias and rotation; the bucket, before its settings), so they may start while this apply
   * finishes. The outputs given are published at once; the apply's result completes them. A
   * failure after it still fails the step; what the others did meanwhile stays done.
   */
  readonly ready?: (outputs: StepOutputs) => void;
  /**
   * While applying, for a dependency the step starts before (`StepEntry.startsBefore`): a
   * promise that resolves when that dependency's outputs are published (its `ready`, or the end
   * of its apply, failed or not), or undefined when it applies nothing in this run (its outputs
   * are there already, or it cannot make them). The step awaits it before the first call that
   * names those outputs.
   */
  readonly after?: (stepId: string) => Promise<void> | undefined;
}

/**
 * One idempotent unit of the setup: read the current state (read-only calls), plan the
 * changes (pure: no I/O), apply exactly those, publish outputs. A converged account plans no
 * change, so a rerun makes no write call.
 */
export interface Step<State, K extends string = string> {
  readonly id: string;
  /** Read-only steps that look at the result (check): read after the others applied; never planned. */
  readonly afterApply?: boolean;
  /** Why the step does not apply to these settings (e.g. CloudWatch Logs off), or undefined. */
  skip?(settings: Settings): string | undefined;
  /**
   * Interactive `init` only, before anything is read for the plan: ask for the settings this
   * step owns that the operator did not give. Returns answers by config key.
   */
  ask?(ctx: StepContext): Promise<Record<string, unknown>>;
  /**
   * Read-only AWS calls; safe to run any number of times. The runner starts the reads of all
   * steps at once (engine/reads.ts): a read sees only the outputs of the steps in `readAfter`.
   */
  read(ctx: ReadContext): Promise<State>;
  /**
   * The steps whose outputs this step's `read` uses (log-group reads the key policy of the
   * key kms-key finds, when kms-key is not planned): its read starts when theirs have ended.
   * Without it the read starts at once, in parallel with the others.
   */
  readAfter?(input: Pick<PlanInput, 'selected' | 'settings'>): readonly string[];
  /** Pure. Throws a StepError with a fix when the state cannot be converged (a disabled key). */
  plan(state: State, input: PlanInput): Change<K>[];
  /** Performs exactly `changes` (never empty) and returns the step's outputs. */
  apply(ctx: StepContext, state: State, changes: readonly Change<K>[]): Promise<StepOutputs>;
  /** Outputs of a state that needs no change; undefined when the resource does not exist. */
  outputs(state: State): StepOutputs | undefined;
  /** A remark for the plan and summary about this state (e.g. "no target instances"). */
  note?(state: State, input: PlanInput): string | undefined;
}

// Steps are stored in one list whatever their state type.
// biome-ignore lint/suspicious/noExplicitAny: the catalog holds steps of every state type.
export type AnyStep = Step<any, string>;

/**
 * A step as the catalog lists it: what `--help` and the runner need to know before its code is
 * loaded (the module, and its SDK client, load only when the step runs).
 */
export interface StepEntry {
  readonly id: string;
  readonly title: string;
  /** Steps whose outputs this one needs; read-only discovered when not selected themselves. */
  readonly dependsOn: readonly string[];
  /**
   * The step is applied as soon as its dependencies are, beside other steps (engine/apply.ts).
   * Without it, it waits for every earlier step of the run: for an order its outputs do not
   * show (the agents after the instance role and the VPC endpoints).
   */
  readonly concurrent?: boolean;
  /**
   * Dependencies a concurrent step does not wait for to start its apply: it waits for them
   * itself (StepContext.after) at the first call that needs their outputs. The bucket is
   * created beside the key; only its encryption names the key.
   */
  readonly startsBefore?: readonly string[];
  readonly load: () => Promise<AnyStep>;
}
