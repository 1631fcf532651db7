import type { Finding } from './finding.js';

/** Why an instance that Systems Manager does not list is not managed, and what to do. */
export interface Diagnosis {
  readonly instanceId: string;
  /** The most likely cause, in the order: stopped, no profile, role rights, network, no agent, agent not running. */
  readonly cause: string;
  /** The steps to take, in order: the fix of the cause first, then those of the other errors found. */
  readonly fix: string[];
  /** A launch script that installs the agent, when the platform has none. */
  readonly userData?: string;
  /** Everything that was checked, ok ones included. */
  readonly findings: Finding[];
}

export interface DiagnoseContext {
  readonly region: string;
  readonly partition: string;
  /**
   * The ssm-setup instance policy (`--instance-policy`). A role with it attached, or with any
   * customer policy of the same name, has the agent's rights. Defaults to the default name.
   */
  readonly instancePolicyArn?: string;
  /**
   * What the session preferences use: KMS encryption, CloudWatch Logs, S3 logging. An instance
   * without a route out then also needs the `kms` and `logs` interface endpoints and the S3
   * gateway endpoint. None by default.
   */
  readonly needs?: { readonly kms?: boolean; readonly logs?: boolean; readonly s3?: boolean };
}

/** A likely reason an instance is not managed, with the steps that fix it. */
export interface Cause {
  readonly text: string;
  readonly fix: readonly string[];
}

/** What one check of an instance found: its findings, the cause it points at if any, a launch script. */
export interface Checked {
  readonly findings: Finding[];
  readonly cause?: Cause;
  readonly userData?: string;
}

/** The `check` of each finding. */
export const CHECKS = {
  state: 'state',
  profile: 'instance-profile',
  rights: 'role-rights',
  route: 'route',
  endpoints: 'endpoints',
  endpoint: <S extends EndpointService | FeatureEndpointService>(service: S) => `endpoint:${service}` as const,
  /** The security groups of the interface endpoints the instance uses admit TCP 443 from it. */
  endpointSg: 'endpoint-sg',
  /** The instance's own security groups let TCP 443 out to where it goes (the endpoints, or the internet). */
  instanceSg: 'instance-sg',
  /** The network ACLs of its subnet and of the endpoints' subnets: 443 out and the ephemeral ports back. */
  nacl: 'nacl',
  /** enableDnsSupport and enableDnsHostnames, which the endpoints' private DNS needs. */
  vpcDns: 'vpc-dns',
  /** The instance metadata service: the agent's credentials and region; IMDSv2 for Default Host Management. */
  imds: 'imds',
  agent: 'agent',
} as const;

/**
 * The interface endpoints a private subnet needs to reach Systems Manager: ssm and ssmmessages
 * always; ec2messages for agents older than 3.3.40.0 (a warning only).
 */
export const ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];
/** Without these two the agent cannot register: their absence (or a closed group) is a cause. */
export const REQUIRED: ReadonlySet<EndpointService> = new Set(['ssm', 'ssmmessages']);

/**
 * Endpoints needed only for what the session preferences use ({@link DiagnoseContext.needs}):
 * `kms` and `logs` are interface endpoints, `s3` a gateway endpoint on the subnet's route table.
 */
export const FEATURE_ENDPOINT_SERVICES = ['kms', 'logs', 's3'] as const;
export type FeatureEndpointService = (typeof FEATURE_ENDPOINT_SERVICES)[number];
export type InterfaceService = EndpointService | 'kms' | 'logs';

/** The interface endpoints an instance of this context may use: the Systems Manager ones, then kms and logs when needed. */
export function interfaceServices(ctx: DiagnoseContext): InterfaceService[] {
  return [...ENDPOINT_SERVICES, ...(ctx.needs?.kms ? (['kms'] as const) : []), ...(ctx.needs?.logs ? (['logs'] as const) : [])];
}

/** The values once each, in first-seen order, without the empty ones. */
export const distinct = (values: readonly (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];
/** The name at the end of an ARN (`…:instance-profile/path/name` → `name`). */
export const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
