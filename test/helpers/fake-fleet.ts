import type { ArchitectureValues, Instance } from '@aws-sdk/client-ec2';
import {
  type AssociationDescription,
  AssociationDoesNotExist,
  type Command,
  type CommandFilter,
  type CommandInvocation,
  type CommandPluginStatus,
  CreateAssociationCommand,
  type CreateAssociationCommandInput,
  DeleteAssociationCommand,
  type DeleteAssociationCommandInput,
  DescribeAssociationCommand,
  type DescribeAssociationCommandInput,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  DuplicateInstanceId,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandInput,
  GetConnectionStatusCommand,
  type GetConnectionStatusCommandInput,
  GetServiceSettingCommand,
  type GetServiceSettingCommandInput,
  type InstanceInformation,
  InvalidCommandId,
  InvalidDocument,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidInstanceInformationFilterValue,
  InvalidNextToken,
  InvalidParameters,
  InvalidResourceId,
  InvalidResourceType,
  InvalidSchedule,
  InvalidTarget,
  ListAssociationsCommand,
  type ListAssociationsCommandInput,
  ListCommandInvocationsCommand,
  type ListCommandInvocationsCommandInput,
  ListCommandsCommand,
  type ListCommandsCommandInput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  ResourceTypeForTagging,
  SendCommandCommand,
  type SendCommandCommandInput,
  ServiceSettingNotFound,
  SSMClient,
  type Target,
  UpdateAssociationCommand,
  type UpdateAssociationCommandInput,
  UpdateServiceSettingCommand,
  type UpdateServiceSettingCommandInput,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { TargetInstance } from '../../src/core/step.js';
import { type FakeEc2Options, fakeEc2 } from './fake-ec2.js';
import { ACCOUNT, REGION } from './fixtures.js';
import { type LossOptions, lossyAnswers } from './lost-answer.js';

/**
 * A small stateful fake of the Systems Manager fleet calls behind aws-sdk-client-mock: managed
 * instances, Run Command, State Manager associations, one service setting, and EC2 CreateTags.
 *
 * moto implements neither DescribeInstanceInformation nor associations nor
 * ListCommandInvocations, so the fleet path is tested against this fake. What it models, with
 * the limits of the API model (aws-sdk-go `ssm/2014-11-06`, and the SSM API reference):
 *
 * - DescribeInstanceInformation: the `InstanceIds` filter (1 to 100 values, the model's
 *   InstanceInformationFilterValueSet; more → InvalidInstanceInformationFilterValue),
 *   `PingStatus` and `PlatformTypes`; MaxResults 5..50 (default 10) → ValidationException
 *   outside; NextToken pagination. Unregistered instances are simply missing.
 * - SendCommand: InstanceIds only, 1 to 50 (ValidationException beyond, DuplicateInstanceId),
 *   the whole call fails with InvalidInstanceId when one id is not managed or not Online;
 *   document and parameter names checked (InvalidDocument, InvalidParameters).
 * - ListCommandInvocations (by CommandId, MaxResults 1..50, paginated): each call without a
 *   NextToken is one poll of that command and moves its invocations on: poll 1 Pending, poll 2
 *   InProgress, poll `finishAtPoll` (default 3) the instance's outcome (Success, or e.g. Failed
 *   with its StatusDetails). A successful AWS-UpdateSSMAgent makes the agent the latest.
 * - Connection lost (`loseConnectionAtPoll`, or `lose(id)`): the instance turns ConnectionLost.
 *   Following the documented statuses (aws-reference.md section 6, and the SDK model of
 *   StatusDetails): an invocation not yet delivered becomes `Delayed` (the service retries),
 *   then `TimedOut` / `Delivery Timed Out` once the command's TimeoutSeconds (the delivery
 *   timeout) have passed since SendCommand; one already InProgress stays InProgress until the
 *   execution timeout (`executionTimeoutSeconds`), then `TimedOut` / `Execution Timed Out`.
 *   The fake never answers `Undeliverable` (that is for nodes that no longer exist).
 * - Command history (ListCommands; ListCommandInvocations by InstanceId, without CommandId):
 *   the `DocumentName`, `Status`, `InvokedAfter` and `InvokedBefore` filters (timestamps as
 *   ISO 8601 text), CommandId and InstanceId, MaxResults 1..50, newest first, paginated. Run
 *   Command keeps its history 30 days: older commands are not listed. These reads move nothing
 *   on (only a poll by CommandId does). `addCommand` puts an earlier command in the history.
 * - Associations: ListAssociations with the `AssociationName` filter, matched as a prefix (the
 *   API does not say exact or prefix: the fake returns the wider set, so callers must compare
 *   names themselves) and the `Name` filter; pages are cut before filtering, so a page can be
 *   empty and still carry a NextToken. DescribeAssociation has the full state (the list lacks
 *   Parameters and the creation `Date`); CreateAssociation does not make names unique;
 *   UpdateAssociation replaces the whole state: what it is not sent is gone. Their tags (the
 *   `Tags` of CreateAssociation) are read with ListTagsForResource, ResourceType `Association`
 *   and the AssociationId as ResourceId; DeleteAssociation by AssociationId.
 * - Lost answers (`loseAnswer`, test/helpers/lost-answer.ts): the next SendCommand or
 *   CreateAssociation is carried out, then the client sees a reset connection (`socket hang
 *   up`) or a 500. A client with the SDK's automatic retries (maxAttempts above 1) resends it,
 *   as the SDK would (aws-sdk-client-mock skips the retry middleware, so the fake plays it):
 *   the call is carried out a second time and that answer arrives. Only a client without
 *   retries (`Clients.once`) sees the failure.
 * - GetConnectionStatus: `connected` for a managed Online instance, else `notconnected`.
 * - GetServiceSetting / UpdateServiceSetting for the DHMC setting (by path or by ARN; an ARN of
 *   another account or region is refused); `$None` until set.
 * - EC2: the instances live in the one fake EC2 world of test/helpers/fake-ec2.ts (`world`): its
 *   CreateTags records the tags on them, and its route tables, endpoints and AMIs answer the
 *   diagnosis of targets Run Command cannot reach.
 *
 * Anything else sent to these two clients is rejected. Every call is counted: `calls()`.
 */

export type PingStatus = 'Online' | 'ConnectionLost' | 'Inactive';

/** How an instance's invocation of a document ends. */
export interface Outcome {
  readonly status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  /** StatusDetails; defaults to the status. */
  readonly details?: string;
  /** What the document prints (standard output); ListCommandInvocations with Details shows its first 2,500 characters. */
  readonly output?: string;
}

export interface FleetInstanceOptions {
  /** Registered with Systems Manager (listed by DescribeInstanceInformation). Default true. */
  managed?: boolean;
  pingStatus?: PingStatus;
  agentVersion?: string;
  /** IsLatestVersion. Default false. */
  isLatest?: boolean;
  platformType?: 'Linux' | 'Windows' | 'MacOS';
  platformName?: string;
  /** EC2 tags. */
  tags?: Record<string, string>;
  /** EC2 state. Default running. */
  state?: string;
  /** The outcome per document name; Success where not given. */
  outcomes?: Record<string, Outcome>;
  /** The poll of a command at which this instance's invocation ends. Default 3; Infinity: never. */
  finishAtPoll?: number;
  /** The instance turns ConnectionLost on this poll of the first command sent to it. */
  loseConnectionAtPoll?: number;
  /** Extra TargetInstance fields (profile, subnet…): the EC2 instance is made to resolve to them. */
  target?: Partial<TargetInstance>;
}

export interface FakeInstance {
  readonly id: string;
  managed: boolean;
  pingStatus: PingStatus;
  agentVersion: string;
  isLatest: boolean;
  platformType: string;
  platformName: string;
  /** The EC2 tags: the same object the fake EC2 world keeps (CreateTags writes here). */
  tags: Record<string, string>;
  outcomes: Record<string, Outcome>;
  finishAtPoll: number;
  loseConnectionAtPoll?: number;
  /** Packages installed through AWS-ConfigureAWSPackage. */
  packages: Set<string>;
}

interface Invocation {
  readonly instanceId: string;
  status: string;
  details: string;
  output?: string;
  startedAt?: number;
}

export interface FakeCommand {
  readonly id: string;
  readonly document: string;
  readonly comment?: string;
  readonly parameters: Record<string, string[]>;
  readonly instanceIds: string[];
  readonly timeoutSeconds: number;
  readonly sentAt: number;
  readonly invocations: Invocation[];
  /** Date.now() of each poll (ListCommandInvocations without NextToken). */
  readonly polls: number[];
}

export interface FakeFleetOptions {
  /** The agent version that is the latest. */
  latestAgentVersion?: string;
  /** Cap on DescribeInstanceInformation page size, below MaxResults (forces pagination). */
  describePageCap?: number;
  /** Cap on ListCommandInvocations page size, below MaxResults. */
  invocationPageCap?: number;
  /** ListAssociations page size (before filtering). Default 50. */
  associationPageSize?: number;
  /** The execution timeout of the documents. Default 3600 s. */
  executionTimeoutSeconds?: number;
  /** Options of the fake EC2 world it builds (its `profiles`, a profile lag…). */
  ec2?: FakeEc2Options;
  /** The region of the service setting's ARN (default REGION). */
  region?: string;
}

const meta = { $metadata: {} };
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** Run Command keeps 30 days of history. */
const HISTORY_MS = 30 * 86_400_000;
const DHMC_PATH = '/ssm/managed-instance/default-ec2-instance-management-role';
const GATHER_KEYS = [
  'applications',
  'awsComponents',
  'networkConfig',
  'instanceDetailedInformation',
  'windowsUpdates',
  'services',
  'windowsRoles',
  'customInventory',
  'billingInfo',
  'files',
  'windowsRegistry',
];
/** The documents the fake knows, with their parameter names. */
const DOCUMENTS: Record<string, { params: string[]; required?: string[] }> = {
  'AWS-UpdateSSMAgent': { params: ['version', 'allowDowngrade'] },
  'AWS-ConfigureAWSPackage': { params: ['action', 'installationType', 'name', 'version', 'additionalArguments'], required: ['action', 'name'] },
  'AWS-GatherSoftwareInventory': { params: GATHER_KEYS },
  'AWS-RunShellScript': { params: ['commands', 'workingDirectory', 'executionTimeout'], required: ['commands'] },
  'AWS-RunPowerShellScript': { params: ['commands', 'workingDirectory', 'executionTimeout'], required: ['commands'] },
};
/** ListCommandInvocations' Output of a plugin: "the first 2,500 characters" (SSM API reference, CommandPlugin). */
const OUTPUT_LIMIT = 2500;

const validation = (message: string) => new ValidationException({ message, ...meta });
const named = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** `i-` and 17 hex digits from a counter. */
export const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/** The EC2 instance that resolves to these options' target (src/aws/targets.ts toTarget). */
function ec2Instance(id: string, o: FleetInstanceOptions): Instance & { InstanceId: string } {
  const t = o.target ?? {};
  return {
    InstanceId: id,
    State: { Name: (t.state ?? o.state ?? 'running') as NonNullable<Instance['State']>['Name'] },
    PlatformDetails: t.platform ?? ((o.platformType ?? 'Linux') === 'Windows' ? 'Windows' : 'Linux/UNIX'),
    ...(t.profileArn ? { IamInstanceProfile: { Arn: t.profileArn } } : {}),
    ...(t.vpcId ? { VpcId: t.vpcId } : {}),
    ...(t.subnetId ? { SubnetId: t.subnetId } : {}),
    ...(t.imageId ? { ImageId: t.imageId } : {}),
    ...(t.architecture ? { Architecture: t.architecture as ArchitectureValues } : {}),
    ...(t.privateIp ? { PrivateIpAddress: t.privateIp } : {}),
    ...(t.publicIp ? { PublicIpAddress: t.publicIp } : {}),
    ...(t.securityGroupIds ? { SecurityGroups: t.securityGroupIds.map((GroupId) => ({ GroupId })) } : {}),
  };
}

export function fakeFleet(opts: FakeFleetOptions = {}) {
  const latest = opts.latestAgentVersion ?? '3.3.1802.0';
  const execTimeoutMs = (opts.executionTimeoutSeconds ?? 3600) * 1000;
  const region = opts.region ?? REGION;
  const ssm = mockClient(SSMClient);
  const world = fakeEc2(opts.ec2);
  const ec2 = world.ec2;
  const instances = new Map<string, FakeInstance>();
  const commands = new Map<string, FakeCommand>();
  const associations = new Map<string, AssociationDescription & { tags: Record<string, string> }>();
  const settings = new Map<string, string>();
  let seq = 0;
  let associationSeq = 0;
  /** The creation time of the newest association, in ms. */
  let lastDate = 0;
  let maxInFlight = 0;
  /** Answers to lose (`loseAnswer`), and the SDK's retries that resend them. */
  const lossy = lossyAnswers();

  ssm.rejects(named('FakeNotImplemented', 'fake fleet: SSM command not implemented'));

  const add = (o: FleetInstanceOptions = {}, id = instanceId(++seq)): string => {
    const tags: Record<string, string> = { ...o.tags, ...(o.target?.name ? { Name: o.target.name } : {}), ...o.target?.tags };
    world.addInstance(ec2Instance(id, o), { tags });
    instances.set(id, {
      id,
      managed: o.managed ?? true,
      pingStatus: o.pingStatus ?? 'Online',
      agentVersion: o.agentVersion ?? (o.isLatest ? latest : '3.2.2016.0'),
      isLatest: o.isLatest ?? false,
      platformType: o.platformType ?? 'Linux',
      platformName: o.platformName ?? 'Amazon Linux',
      tags,
      outcomes: { ...o.outcomes },
      finishAtPoll: o.finishAtPoll ?? 3,
      loseConnectionAtPoll: o.loseConnectionAtPoll,
      packages: new Set(),
    });
    return id;
  };
  const addMany = (n: number, o: FleetInstanceOptions = {}) => Array.from({ length: n }, () => add(o));

  /** The targets as ctx.targets() would resolve them now from EC2 (tags included). */
  const targets = (ids: readonly string[] = [...instances.keys()]): TargetInstance[] => world.targets(ids);

  const inFlight = () => [...commands.values()].filter((c) => c.invocations.some((v) => !TERMINAL.has(v.status))).length;

  const page = <T>(items: readonly T[], token: string | undefined, size: number, prefix: string) => {
    let start = 0;
    if (token !== undefined) {
      const m = new RegExp(`^${prefix}:(\\d+)$`).exec(token);
      if (!m) throw new InvalidNextToken({ message: `The NextToken ${token} is not valid`, ...meta });
      start = Number(m[1]);
    }
    const end = start + size;
    return { items: items.slice(start, end), NextToken: end < items.length ? `${prefix}:${end}` : undefined };
  };

  // --- Managed instances -----------------------------------------------------------------------

  ssm.on(DescribeInstanceInformationCommand).callsFake(async (input: DescribeInstanceInformationCommandInput) => {
    if (input.InstanceInformationFilterList && input.Filters) throw validation('InstanceInformationFilterList and Filters cannot be used together');
    const max = input.MaxResults ?? 10;
    if (max < 5 || max > 50) throw validation(`Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`);
    let list = [...instances.values()].filter((i) => i.managed);
    for (const f of input.Filters ?? []) {
      const values = f.Values ?? [];
      if (values.length < 1 || values.length > 100) {
        throw new InvalidInstanceInformationFilterValue({ message: `filter ${f.Key} takes 1 to 100 values, got ${values.length}`, ...meta });
      }
      if (f.Key === 'InstanceIds') list = list.filter((i) => values.includes(i.id));
      else if (f.Key === 'PingStatus') list = list.filter((i) => values.includes(i.pingStatus));
      else if (f.Key === 'PlatformTypes') list = list.filter((i) => values.includes(i.platformType));
      else throw new InvalidFilterKey({ message: `fake fleet: filter key ${f.Key} not modelled`, ...meta });
    }
    const { items, NextToken } = page(list, input.NextToken, Math.min(max, opts.describePageCap ?? 50), 'dii');
    const InstanceInformationList: InstanceInformation[] = items.map((i) => ({
      InstanceId: i.id,
      PingStatus: i.pingStatus,
      AgentVersion: i.agentVersion,
      // As the SSM model says: the field does not tell whether a Windows node runs the latest
      // agent (EC2Config on older Windows Server); on Windows it is false, whatever the version.
      IsLatestVersion: i.platformType === 'Windows' ? false : i.isLatest,
      PlatformType: i.platformType as InstanceInformation['PlatformType'],
      PlatformName: i.platformName,
      ResourceType: 'EC2Instance',
    }));
    return { InstanceInformationList, NextToken };
  });

  // Connected: managed and Online (what GetConnectionStatus tells of an EC2 instance).
  ssm.on(GetConnectionStatusCommand).callsFake(async (input: GetConnectionStatusCommandInput) => {
    const inst = instances.get(input.Target ?? '');
    return { Target: input.Target, Status: inst?.managed && inst.pingStatus === 'Online' ? 'connected' : 'notconnected' };
  });

  // --- Run Command -----------------------------------------------------------------------------

  const checkParameters = (document: string, parameters: Record<string, string[]> | undefined) => {
    const doc = DOCUMENTS[document];
    if (!doc) throw new InvalidDocument({ message: `document ${document} does not exist (fake fleet knows ${Object.keys(DOCUMENTS).join(', ')})`, ...meta });
    for (const [k, v] of Object.entries(parameters ?? {})) {
      if (!doc.params.includes(k)) throw new InvalidParameters({ message: `${document} has no parameter ${k}`, ...meta });
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
        throw new InvalidParameters({ message: `parameter ${k} must be a list of strings`, ...meta });
    }
    for (const k of doc.required ?? []) if (!parameters?.[k]?.length) throw new InvalidParameters({ message: `${document} requires ${k}`, ...meta });
  };

  /** A command into the history and the polls (SendCommand, or `addCommand` for an earlier one). */
  const record = (c: Omit<FakeCommand, 'id' | 'invocations' | 'polls'>, status = 'Pending', details = status) => {
    const id = `00000000-0000-4000-8000-${(commands.size + 1).toString(16).padStart(12, '0')}`;
    const cmd: FakeCommand = { ...c, id, invocations: c.instanceIds.map((instanceId) => ({ instanceId, status, details })), polls: [] };
    commands.set(id, cmd);
    return cmd;
  };

  ssm.on(SendCommandCommand).callsFake(
    lossy.wrap(SendCommandCommand, async (input: SendCommandCommandInput) => {
      if (input.Targets) throw validation('fake fleet: SendCommand with Targets is not modelled, use InstanceIds');
      const ids = input.InstanceIds ?? [];
      if (ids.length < 1 || ids.length > 50)
        throw validation(`Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and 50 (got ${ids.length})`);
      if (new Set(ids).size !== ids.length) throw new DuplicateInstanceId({ message: 'duplicate instance ids', ...meta });
      const timeoutSeconds = input.TimeoutSeconds ?? 3600;
      if (timeoutSeconds < 30 || timeoutSeconds > 2_592_000) throw validation('TimeoutSeconds must be between 30 and 2592000');
      if ((input.Comment ?? '').length > 100) throw validation('Comment is at most 100 characters');
      checkParameters(input.DocumentName ?? '', input.Parameters);
      const bad = ids.filter((id) => instances.get(id)?.managed !== true || instances.get(id)!.pingStatus !== 'Online');
      if (bad.length) throw new InvalidInstanceId({ message: `Instances [[${bad.join(', ')}]] not in a valid state for account ${ACCOUNT}`, ...meta });
      const cmd = record({
        document: input.DocumentName!,
        ...(input.Comment ? { comment: input.Comment } : {}),
        parameters: input.Parameters ?? {},
        instanceIds: [...ids],
        timeoutSeconds,
        sentAt: Date.now(),
      });
      maxInFlight = Math.max(maxInFlight, inFlight());
      return { Command: toCommand(cmd) };
    }),
  );

  /** One poll: every open invocation of the command moves on. */
  const advance = (cmd: FakeCommand) => {
    cmd.polls.push(Date.now());
    const poll = cmd.polls.length;
    const now = Date.now();
    for (const inv of cmd.invocations) {
      if (TERMINAL.has(inv.status)) continue;
      const inst = instances.get(inv.instanceId)!;
      if (inst.loseConnectionAtPoll !== undefined && poll >= inst.loseConnectionAtPoll && inst.pingStatus === 'Online') {
        inst.pingStatus = 'ConnectionLost';
        inst.loseConnectionAtPoll = undefined;
      }
      if (inst.pingStatus !== 'Online') {
        if (inv.status === 'InProgress') {
          if (now - inv.startedAt! >= execTimeoutMs) Object.assign(inv, { status: 'TimedOut', details: 'Execution Timed Out' });
        } else if (now - cmd.sentAt >= cmd.timeoutSeconds * 1000) Object.assign(inv, { status: 'TimedOut', details: 'Delivery Timed Out' });
        else Object.assign(inv, { status: 'Delayed', details: 'Delayed' });
        continue;
      }
      if (poll >= inst.finishAtPoll) {
        const out = inst.outcomes[cmd.document] ?? { status: 'Success' };
        Object.assign(inv, { status: out.status, details: out.details ?? out.status, output: out.output ?? '' });
        if (out.status === 'Success') applied(inst, cmd);
      } else if (poll >= 2) {
        if (inv.status !== 'InProgress') Object.assign(inv, { status: 'InProgress', details: 'InProgress', startedAt: now });
        if (now - inv.startedAt! >= execTimeoutMs) Object.assign(inv, { status: 'TimedOut', details: 'Execution Timed Out' });
      }
    }
  };
  /** What a successful document changes on the instance. */
  const applied = (inst: FakeInstance, cmd: FakeCommand) => {
    if (cmd.document === 'AWS-UpdateSSMAgent') Object.assign(inst, { isLatest: true, agentVersion: latest });
    if (cmd.document === 'AWS-ConfigureAWSPackage' && cmd.parameters.action?.[0] === 'Install') for (const p of cmd.parameters.name ?? []) inst.packages.add(p);
  };
  const toInvocation = (cmd: FakeCommand, inv: Invocation, details = false): CommandInvocation => ({
    ...(details
      ? {
          CommandPlugins: [
            {
              Name: cmd.document === 'AWS-RunPowerShellScript' ? 'aws:runPowerShellScript' : 'aws:runShellScript',
              Status: inv.status as CommandPluginStatus,
              Output: (inv.output ?? '').slice(0, OUTPUT_LIMIT),
            },
          ],
        }
      : {}),
    CommandId: cmd.id,
    InstanceId: inv.instanceId,
    DocumentName: cmd.document,
    Status: inv.status as CommandInvocation['Status'],
    StatusDetails: inv.details,
    RequestedDateTime: new Date(cmd.sentAt),
    ...(cmd.comment ? { Comment: cmd.comment } : {}),
  });
  const findCommand = (id: string | undefined) => {
    const cmd = commands.get(id ?? '');
    if (!cmd) throw new InvalidCommandId({ message: `command ${id} not found`, ...meta });
    return cmd;
  };

  /** The command's status from its invocations, as ListCommands shows it. */
  const overall = (cmd: FakeCommand) => {
    const statuses = cmd.invocations.map((v) => v.status);
    if (statuses.every((x) => x === 'Pending')) return 'Pending';
    if (statuses.some((x) => !TERMINAL.has(x))) return 'InProgress';
    if (statuses.every((x) => x === 'Success')) return 'Success';
    return ['Failed', 'TimedOut', 'Cancelled'].find((x) => statuses.includes(x))!;
  };
  const toCommand = (cmd: FakeCommand): Command => ({
    CommandId: cmd.id,
    DocumentName: cmd.document,
    ...(cmd.comment ? { Comment: cmd.comment } : {}),
    Parameters: structuredClone(cmd.parameters),
    InstanceIds: [...cmd.instanceIds],
    RequestedDateTime: new Date(cmd.sentAt),
    Status: overall(cmd) as Command['Status'],
    TimeoutSeconds: cmd.timeoutSeconds,
    TargetCount: cmd.instanceIds.length,
    CompletedCount: cmd.invocations.filter((v) => TERMINAL.has(v.status)).length,
  });
  /**
   * The history filters (DocumentName, Status, InvokedAfter, InvokedBefore) as one test of a
   * command and the status to compare; commands past the 30 days of history are never listed.
   */
  const historyFilter = (filters: readonly CommandFilter[] | undefined) => {
    const tests = (filters ?? []).map((f) => {
      const value = f.value ?? '';
      if (f.key === 'DocumentName') return (cmd: FakeCommand) => cmd.document === value;
      if (f.key === 'Status') return (_: FakeCommand, status: string) => status === value;
      if (f.key === 'InvokedAfter' || f.key === 'InvokedBefore') {
        const at = Date.parse(value);
        if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(at)) throw validation(`${f.key} takes an ISO 8601 timestamp, got ${value}`);
        return f.key === 'InvokedAfter' ? (cmd: FakeCommand) => cmd.sentAt >= at : (cmd: FakeCommand) => cmd.sentAt < at;
      }
      throw new InvalidFilterKey({ message: `fake fleet: command filter ${f.key} not modelled`, ...meta });
    });
    return (cmd: FakeCommand, status: string) => Date.now() - cmd.sentAt <= HISTORY_MS && tests.every((t) => t(cmd, status));
  };
  const maxOf = (input: { MaxResults?: number }) => {
    const max = input.MaxResults ?? 50;
    if (max < 1 || max > 50) throw validation(`Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50`);
    return max;
  };
  /** Newest first, as the history lists them. */
  const newestFirst = () => [...commands.values()].sort((a, b) => b.sentAt - a.sentAt || b.id.localeCompare(a.id));

  ssm.on(ListCommandInvocationsCommand).callsFake(async (input: ListCommandInvocationsCommandInput) => {
    const max = maxOf(input);
    const keep = historyFilter(input.Filters);
    if (!input.CommandId) {
      // The history of an instance (or of all): nothing moves on.
      const all = newestFirst().flatMap((cmd) =>
        cmd.invocations.filter((v) => (!input.InstanceId || v.instanceId === input.InstanceId) && keep(cmd, v.status)).map((v) => toInvocation(cmd, v)),
      );
      const { items, NextToken } = page(all, input.NextToken, Math.min(max, opts.invocationPageCap ?? 50), 'lci-history');
      return { CommandInvocations: items, NextToken };
    }
    const cmd = findCommand(input.CommandId);
    if (!input.NextToken) advance(cmd);
    const all = cmd.invocations.filter((v) => (!input.InstanceId || v.instanceId === input.InstanceId) && (!input.Filters || keep(cmd, v.status)));
    const { items, NextToken } = page(all, input.NextToken, Math.min(max, opts.invocationPageCap ?? 50), `lci-${cmd.id}`);
    return { CommandInvocations: items.map((v) => toInvocation(cmd, v, input.Details === true)), NextToken };
  });

  ssm.on(ListCommandsCommand).callsFake(async (input: ListCommandsCommandInput) => {
    const max = maxOf(input);
    if (input.InstanceId && input.Filters?.some((f) => f.key === 'Status' && f.value === 'Pending'))
      throw validation('InstanceId cannot be combined with Status Pending');
    const keep = historyFilter(input.Filters);
    const all = (input.CommandId ? [findCommand(input.CommandId)] : newestFirst()).filter(
      (cmd) => (!input.InstanceId || cmd.instanceIds.includes(input.InstanceId)) && keep(cmd, overall(cmd)),
    );
    const { items, NextToken } = page(all, input.NextToken, max, 'lc');
    return { Commands: items.map(toCommand), NextToken };
  });

  // Implemented only so that per-instance polling would be visible in calls(); it moves nothing on.
  ssm.on(GetCommandInvocationCommand).callsFake(async (input: GetCommandInvocationCommandInput) => {
    const cmd = findCommand(input.CommandId);
    const inv = cmd.invocations.find((v) => v.instanceId === input.InstanceId);
    if (!inv) throw named('InvocationDoesNotExist', 'invocation does not exist');
    return {
      CommandId: cmd.id,
      InstanceId: inv.instanceId,
      DocumentName: cmd.document,
      Status: inv.status as CommandInvocation['Status'],
      StatusDetails: inv.details,
    };
  });

  // --- Associations ----------------------------------------------------------------------------

  const checkAssociation = (input: {
    Name?: string;
    AssociationName?: string;
    ScheduleExpression?: string;
    Parameters?: Record<string, string[]>;
    Targets?: Target[];
  }) => {
    checkParameters(input.Name ?? '', input.Parameters);
    if (input.Name === 'AWS-GatherSoftwareInventory') {
      for (const [k, v] of Object.entries(input.Parameters ?? {})) {
        if (k !== 'files' && k !== 'windowsRegistry' && !['Enabled', 'Disabled'].includes(v[0] ?? ''))
          throw new InvalidParameters({ message: `${k} must be Enabled or Disabled`, ...meta });
      }
    }
    if (input.AssociationName !== undefined && !/^[a-zA-Z0-9_\-.]{3,128}$/.test(input.AssociationName))
      throw validation(`AssociationName ${input.AssociationName} does not match ^[a-zA-Z0-9_\\-.]{3,128}$`);
    if (input.ScheduleExpression !== undefined) {
      const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(input.ScheduleExpression);
      const minutes = m ? Number(m[1]) * { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[m[2] as 'minute'] : NaN;
      const cron = /^cron\(.+\)$/.test(input.ScheduleExpression);
      if (!cron && !(minutes >= 30 && minutes < 31 * 1440))
        throw new InvalidSchedule({ message: `schedule ${input.ScheduleExpression} is not valid`, ...meta });
    }
    const targets = input.Targets ?? [];
    if (targets.length < 1 || targets.length > 5) throw new InvalidTarget({ message: 'an association takes 1 to 5 targets', ...meta });
    for (const t of targets) {
      if (!t.Key || !/^(InstanceIds|tag:.+|tag-key|resource-groups:Name)$/.test(t.Key))
        throw new InvalidTarget({ message: `target key ${t.Key} is not valid`, ...meta });
      if (!t.Values?.length || t.Values.length > 50) throw new InvalidTarget({ message: `target ${t.Key} takes 1 to 50 values`, ...meta });
    }
  };
  const description = (a: AssociationDescription): AssociationDescription => {
    const { tags: _tags, ...rest } = a as AssociationDescription & { tags?: unknown };
    return structuredClone(rest);
  };

  ssm.on(ListAssociationsCommand).callsFake(async (input: ListAssociationsCommandInput) => {
    const size = Math.min(input.MaxResults ?? 50, opts.associationPageSize ?? 50);
    const { items, NextToken } = page([...associations.values()], input.NextToken, size, 'la');
    const matches = (a: AssociationDescription) =>
      (input.AssociationFilterList ?? []).every((f) => {
        if (f.key === 'AssociationName') return (a.AssociationName ?? '').startsWith(f.value ?? '');
        if (f.key === 'Name') return a.Name === f.value;
        throw named('InvalidFilterKey', `fake fleet: association filter ${f.key} not modelled`);
      });
    return {
      Associations: items.filter(matches).map((a) => ({
        Name: a.Name,
        AssociationId: a.AssociationId,
        AssociationName: a.AssociationName,
        AssociationVersion: a.AssociationVersion,
        DocumentVersion: a.DocumentVersion,
        Targets: structuredClone(a.Targets),
        ScheduleExpression: a.ScheduleExpression,
      })),
      NextToken,
    };
  });

  const findAssociation = (id: string | undefined) => {
    const a = associations.get(id ?? '');
    if (!a) throw new AssociationDoesNotExist({ message: `association ${id} does not exist`, ...meta });
    return a;
  };
  ssm
    .on(DescribeAssociationCommand)
    .callsFake(async (input: DescribeAssociationCommandInput) => ({ AssociationDescription: description(findAssociation(input.AssociationId)) }));

  /** Adds an association as if someone made it (returns its id). */
  const addAssociation = (a: {
    Name: string;
    AssociationName?: string;
    Targets: Target[];
    ScheduleExpression?: string;
    Parameters?: Record<string, string[]>;
    tags?: Record<string, string>;
    /** When it was made; default now (each one a millisecond after the one before at least). */
    date?: Date;
  }) => {
    const AssociationId = `a55${(++associationSeq).toString(16).padStart(33, '0')}`.slice(0, 36);
    lastDate = a.date ? a.date.getTime() : Math.max(Date.now(), lastDate + 1);
    associations.set(AssociationId, {
      AssociationId,
      Name: a.Name,
      AssociationName: a.AssociationName,
      AssociationVersion: '1',
      Date: new Date(lastDate),
      LastUpdateAssociationDate: new Date(lastDate),
      DocumentVersion: '$DEFAULT',
      Targets: structuredClone(a.Targets),
      ScheduleExpression: a.ScheduleExpression,
      ...(a.Parameters && Object.keys(a.Parameters).length ? { Parameters: structuredClone(a.Parameters) } : {}),
      tags: { ...a.tags },
    });
    return AssociationId;
  };

  ssm.on(CreateAssociationCommand).callsFake(
    lossy.wrap(CreateAssociationCommand, async (input: CreateAssociationCommandInput) => {
      checkAssociation(input);
      const id = addAssociation({
        Name: input.Name!,
        AssociationName: input.AssociationName,
        Targets: input.Targets ?? [],
        ScheduleExpression: input.ScheduleExpression,
        Parameters: input.Parameters,
        tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key!, t.Value!])),
      });
      return { AssociationDescription: description(associations.get(id)!) };
    }),
  );

  ssm.on(DeleteAssociationCommand).callsFake(async (input: DeleteAssociationCommandInput) => {
    if (!input.AssociationId) throw validation('fake fleet: DeleteAssociation by Name and InstanceId is not modelled, use AssociationId');
    associations.delete(findAssociation(input.AssociationId).AssociationId!);
    return {};
  });

  // Tags of associations only (the documents' tags are fake-ssm's, which sets none to read here).
  ssm.on(ListTagsForResourceCommand).callsFake(async (input: ListTagsForResourceCommandInput) => {
    if (input.ResourceType !== 'Association') {
      if (!Object.values(ResourceTypeForTagging).includes(input.ResourceType as ResourceTypeForTagging))
        throw new InvalidResourceType({ message: `resource type ${input.ResourceType} is not valid`, ...meta });
      throw named('FakeNotImplemented', `fake fleet: ListTagsForResource of ${input.ResourceType} not modelled`);
    }
    const a = associations.get(input.ResourceId ?? '');
    if (!a) throw new InvalidResourceId({ message: `association ${input.ResourceId} does not exist`, ...meta });
    return { TagList: Object.entries(a.tags).map(([Key, Value]) => ({ Key, Value })) };
  });

  ssm.on(UpdateAssociationCommand).callsFake(async (input: UpdateAssociationCommandInput) => {
    const old = findAssociation(input.AssociationId);
    const name = input.Name ?? old.Name!;
    checkAssociation({ ...input, Name: name, Targets: input.Targets ?? old.Targets });
    // The whole state is replaced: an optional field not sent is gone (aws-reference.md section 7),
    // the document name excepted.
    associations.set(old.AssociationId!, {
      AssociationId: old.AssociationId,
      Name: name,
      AssociationName: input.AssociationName,
      AssociationVersion: String(Number(old.AssociationVersion ?? '1') + 1),
      Date: old.Date,
      LastUpdateAssociationDate: new Date(),
      DocumentVersion: input.DocumentVersion ?? '$DEFAULT',
      Targets: structuredClone(input.Targets),
      ScheduleExpression: input.ScheduleExpression,
      ...(input.Parameters && Object.keys(input.Parameters).length ? { Parameters: structuredClone(input.Parameters) } : {}),
      tags: old.tags,
    });
    return { AssociationDescription: description(associations.get(old.AssociationId!)!) };
  });

  // --- Service setting (DHMC) ------------------------------------------------------------------

  const settingPath = (id: string | undefined) => {
    const arn = /^arn:([^:]+):ssm:([^:]+):(\d{12}):servicesetting(\/.+)$/.exec(id ?? '');
    if (arn) {
      if (arn[2] !== region || arn[3] !== ACCOUNT) throw validation(`setting ${id} is not of account ${ACCOUNT} in ${region}`);
      return arn[4]!;
    }
    return id ?? '';
  };
  const setting = (id: string | undefined) => {
    const path = settingPath(id);
    if (path !== DHMC_PATH) throw new ServiceSettingNotFound({ message: `setting ${id} not found (fake fleet knows ${DHMC_PATH})`, ...meta });
    return path;
  };
  ssm.on(GetServiceSettingCommand).callsFake(async (input: GetServiceSettingCommandInput) => {
    const path = setting(input.SettingId);
    const value = settings.get(path);
    return {
      ServiceSetting: {
        SettingId: path,
        SettingValue: value ?? '$None',
        Status: value === undefined ? 'Default' : 'Customized',
        ARN: `arn:aws:ssm:${region}:${ACCOUNT}:servicesetting${path}`,
      },
    };
  });
  ssm.on(UpdateServiceSettingCommand).callsFake(async (input: UpdateServiceSettingCommandInput) => {
    const path = setting(input.SettingId);
    if (!input.SettingValue) throw validation('SettingValue is required');
    settings.set(path, input.SettingValue);
    return {};
  });

  /** Calls so far by operation name (`SendCommand`, `CreateTags`…), both clients. */
  const calls = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const c of [...ssm.calls(), ...ec2.calls()]) {
      const op = (c.args[0] as object).constructor.name.replace(/Command$/, '');
      out[op] = (out[op] ?? 0) + 1;
    }
    return out;
  };

  return {
    ssm,
    ec2,
    /** The EC2 side: instances, and the VPCs, route tables, endpoints and AMIs a test adds. */
    world,
    instances,
    commands,
    associations,
    settings,
    latest,
    add,
    addMany,
    targets,
    addAssociation,
    /**
     * The next `times` attempts of SendCommand or CreateAssociation are carried out (unless
     * `carriedOut: false`), then their answer is lost (a reset connection, or a 500: `as`). A
     * client with automatic retries resends, as the SDK would (test/helpers/lost-answer.ts).
     */
    loseAnswer(command: typeof SendCommandCommand | typeof CreateAssociationCommand, o: LossOptions = {}) {
      lossy.lose(command, o);
    },
    /** Requests of SendCommand or CreateAssociation that reached the fake, the SDK's retries included. */
    attempts: (command: typeof SendCommandCommand | typeof CreateAssociationCommand) => lossy.attempts(command),
    /**
     * An earlier command in the Run Command history (an earlier run's, or someone's), sent
     * `agoMs` before now and ended with `status` on each of its instances (a Success applies
     * the document there, as a poll would). Returns its CommandId.
     */
    addCommand(c: {
      document: string;
      parameters?: Record<string, string[]>;
      instanceIds: string[];
      status?: Outcome['status'];
      comment?: string;
      agoMs?: number;
    }) {
      const status = c.status ?? 'Success';
      const cmd = record(
        {
          document: c.document,
          ...(c.comment ? { comment: c.comment } : {}),
          parameters: c.parameters ?? {},
          instanceIds: [...c.instanceIds],
          timeoutSeconds: 600,
          sentAt: Date.now() - (c.agoMs ?? 0),
        },
        status,
      );
      if (status === 'Success') for (const id of c.instanceIds) if (instances.has(id)) applied(instances.get(id)!, cmd);
      return cmd.id;
    },
    /** The instance drops off now (its next polls see ConnectionLost). */
    lose: (id: string) => {
      instances.get(id)!.pingStatus = 'ConnectionLost';
    },
    calls,
    /** Calls of one operation. */
    count: (op: string) => calls()[op] ?? 0,
    /** The most commands whose invocations were not all final at one time (measured at each SendCommand). */
    maxInFlight: () => maxInFlight,
    /** Associations carrying that exact name. */
    named: (name: string) => [...associations.values()].filter((a) => a.AssociationName === name),
    restore: () => {
      ssm.restore();
      world.restore();
    },
  };
}

export type FakeFleet = ReturnType<typeof fakeFleet>;

/**
 * Awaits `work` while `tick` moves (fake) time on: for code that sleeps between polls. `tick`
 * is e.g. `() => vi.advanceTimersToNextTimerAsync()`; with no timer pending it should yield a
 * real macrotask so that pending I/O (a dynamic import) can finish.
 */
export async function settle<T>(work: Promise<T>, tick: () => Promise<unknown>): Promise<T> {
  let done = false;
  const watched = work.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  while (!done) await tick();
  return watched;
}
