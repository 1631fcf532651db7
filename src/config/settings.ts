/**
 * The settings of the contract (docs/product.md, "Options") as data: one row per setting,
 * naming its config-file key, its flag, how the flag parses and its built-in default. The
 * commander program registers its options (and their help, default included) from this table,
 * the loader takes its lowest layer from it, and config errors name flags through it, so none
 * of them can disagree. Zod-free on purpose: `--help` loads this and nothing heavier.
 */
export type SettingKind =
  /** `--flag <value>` */
  | 'string'
  /** `--flag <n>`: a whole number */
  | 'number'
  /** `--flag`: switches on */
  | 'boolean'
  /** `--no-flag`: switches off (on by default) */
  | 'negated'
  /** `--flag a,b`: comma-separated list (an array in the config file) */
  | 'list'
  /** `--flag x --flag y`: repeatable */
  | 'repeated';

export interface SettingSpec {
  /** Config-file key, camelCase of the flag. */
  readonly key: string;
  /** The flag as typed, without its value, e.g. `--idle-timeout` or `--no-agent-update`. */
  readonly flag: string;
  readonly kind: SettingKind;
  /** Placeholder shown in help, e.g. `<minutes>`. */
  readonly arg?: string;
  readonly description: string;
  /** Environment variables read between the config file and the flags, the first one set wins. */
  readonly env?: string | readonly string[];
  /** The built-in default, the lowest layer of the settings; absent for optional settings. */
  readonly default?: DefaultValue;
  /** How help shows a default that is computed or absent, e.g. `ssm-session-logs-<account>-<region>`. */
  readonly defaultText?: string;
  /** Where `--help` lists it; global settings have none. */
  readonly group?: SettingGroup;
}

/** The help groups of the step settings, in the order `--help` shows them. */
export const SETTING_GROUPS = ['Targets', 'Accounts', 'Storage', 'IAM', 'Preferences', 'Fleet', 'Local'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

type DefaultValue = string | number | boolean | readonly never[] | Readonly<Record<string, never>>;

/** Options every command takes; they are also keys of the config file. */
// biome-ignore format: one setting per line reads as a table.
export const GLOBAL_SETTINGS = [
  { key: 'profile', flag: '--profile', kind: 'string', arg: '<name>', env: 'AWS_PROFILE', description: 'AWS shared-config profile' },
  // AWS_DEFAULT_REGION as the AWS CLI reads it (the JavaScript SDK alone would ignore it).
  { key: 'region', flag: '--region', kind: 'string', arg: '<region>', env: ['AWS_REGION', 'AWS_DEFAULT_REGION'], description: "AWS region (else AWS_REGION or AWS_DEFAULT_REGION, else the profile's region)" },
  { key: 'regions', flag: '--regions', kind: 'list', arg: '<r1,r2>', description: 'set up several regions at once (the IAM names get a -<region> suffix)', default: [] },
  { key: 'allowUnknownRegion', flag: '--allow-unknown-region', kind: 'boolean', description: 'accept a region the installed AWS SDK does not list yet (a region newer than this ssm-setup)', default: false },
  { key: 'endpointUrl', flag: '--endpoint-url', kind: 'string', arg: '<url>', env: 'AWS_ENDPOINT_URL', description: 'send every AWS call to this endpoint (S3 in path style), e.g. a local emulator' },
] as const satisfies readonly SettingSpec[];

/** Settings of init, plan, run and export. */
// biome-ignore format: one setting per line reads as a table.
export const STEP_SETTINGS = [
  { key: 'keyAlias', group: 'Storage', flag: '--key-alias', kind: 'string', arg: '<alias>', description: 'KMS key alias', default: 'alias/ssm-session-manager' },
  { key: 'bucket', group: 'Storage', flag: '--bucket', kind: 'string', arg: '<name>', description: 'S3 bucket for session logs', defaultText: 'ssm-session-logs-<account>-<region>' },
  { key: 's3Prefix', group: 'Storage', flag: '--s3-prefix', kind: 'string', arg: '<prefix>', description: 'key prefix of session logs', default: 'session-logs/' },
  { key: 's3PrefixWholeBucket', group: 'Storage', flag: '--s3-prefix-whole-bucket', kind: 'boolean', description: 'allow an empty --s3-prefix on a bucket ssm-setup did not create: its lifecycle rule then covers every object in it', default: false },
  { key: 'logTransitionDays', group: 'Storage', flag: '--log-transition-days', kind: 'number', arg: '<n>', description: 'days before logs move to Glacier Flexible Retrieval, 0 = never', default: 90 },
  { key: 'logExpirationDays', group: 'Storage', flag: '--log-expiration-days', kind: 'number', arg: '<n>', description: 'days before logs expire, 0 = never', default: 365 },
  { key: 'cloudwatchLogs', group: 'Storage', flag: '--cloudwatch-logs', kind: 'boolean', description: 'also stream session logs to CloudWatch Logs', default: false },
  { key: 'logGroup', group: 'Storage', flag: '--log-group', kind: 'string', arg: '<name>', description: 'CloudWatch Logs group (implies --cloudwatch-logs)', default: '/aws/ssm/session-logs' },
  { key: 'logRetentionDays', group: 'Storage', flag: '--log-retention-days', kind: 'number', arg: '<n>', description: "log group retention, one of CloudWatch's allowed values", default: 365 },
  { key: 'instanceRole', group: 'IAM', flag: '--instance-role', kind: 'string', arg: '<name>', description: 'role for instances that have none', default: 'SSMSessionManagerInstanceRole' },
  { key: 'instancePolicy', group: 'IAM', flag: '--instance-policy', kind: 'string', arg: '<name>', description: 'managed policy for instance roles', default: 'SSMSessionManagerInstancePolicy' },
  { key: 'operatorPolicy', group: 'IAM', flag: '--operator-policy', kind: 'string', arg: '<name>', description: 'managed policy for operators', default: 'SSMSessionManagerOperatorPolicy' },
  { key: 'operatorAccess', group: 'IAM', flag: '--operator-access', kind: 'string', arg: '<restricted|full>', description: 'operator policy variant', default: 'restricted' },
  { key: 'operatorUsers', group: 'IAM', flag: '--operator-users', kind: 'list', arg: '<a,b>', description: 'IAM users that get the operator policy', default: [] },
  { key: 'operatorGroups', group: 'IAM', flag: '--operator-groups', kind: 'list', arg: '<a,b>', description: 'IAM groups that get the operator policy', default: [] },
  { key: 'idleTimeout', group: 'Preferences', flag: '--idle-timeout', kind: 'number', arg: '<minutes>', description: 'idle session timeout, 1-60', default: 20 },
  { key: 'maxSessionDuration', group: 'Preferences', flag: '--max-session-duration', kind: 'number', arg: '<minutes>', description: 'maximum session duration, 1-1440', defaultText: 'none' },
  { key: 'runAs', group: 'Preferences', flag: '--run-as', kind: 'string', arg: '<user>', description: 'OS user for sessions instead of ssm-user (root is refused)' },
  { key: 'shellProfileLinux', group: 'Preferences', flag: '--shell-profile-linux', kind: 'string', arg: '<cmds>', description: 'commands run at the start of Linux sessions', default: '' },
  { key: 'shellProfileWindows', group: 'Preferences', flag: '--shell-profile-windows', kind: 'string', arg: '<cmds>', description: 'commands run at the start of Windows sessions', default: '' },
  { key: 'normalize', group: 'Preferences', flag: '--normalize', kind: 'boolean', description: 'rewrite the preferences document even when it differs only in the form of its values ("true" for true)', default: false },
  { key: 'instanceIds', group: 'Targets', flag: '--instance-ids', kind: 'list', arg: '<i-…,…>', description: 'target instances', default: [] },
  { key: 'tag', group: 'Targets', flag: '--tag', kind: 'repeated', arg: '<Key=Value>', description: 'target instances with this tag (repeatable; all must match)', default: [] },
  { key: 'cloudwatchAgent', group: 'Fleet', flag: '--no-cloudwatch-agent', kind: 'negated', description: 'do not install the CloudWatch agent', default: true },
  { key: 'agentUpdate', group: 'Fleet', flag: '--no-agent-update', kind: 'negated', description: 'do not update the SSM Agent', default: true },
  { key: 'hostManagement', group: 'Fleet', flag: '--no-host-management', kind: 'negated', description: 'do not create the host-management associations', default: true },
  { key: 'dhmc', group: 'Fleet', flag: '--dhmc', kind: 'boolean', description: 'turn on Default Host Management Configuration', default: false },
  { key: 'vpcEndpoints', group: 'Fleet', flag: '--vpc-endpoints', kind: 'boolean', description: 'create the VPC endpoints Session Manager needs for targets in subnets without an internet route (shows the monthly cost)', default: false },
  { key: 'denyUnloggedSessions', group: 'IAM', flag: '--deny-unlogged-sessions', kind: 'boolean', description: 'operators may not start SSH or port-forwarding sessions, which Session Manager never content-logs', default: false },
  { key: 'resourceTags', group: 'Storage', flag: '--resource-tags', kind: 'list', arg: '<K=V,…>', description: 'tags for what ssm-setup creates (ManagedBy=ssm-setup is always added; --tags is the old name)', default: {} },
  { key: 'accounts', group: 'Accounts', flag: '--accounts', kind: 'list', arg: '<id,…>', description: 'set up these accounts (12-digit ids) by assuming --role-name in each', default: [] },
  { key: 'organization', group: 'Accounts', flag: '--organization', kind: 'boolean', description: "every ACTIVE account of the caller's AWS Organization (not the caller's own account)", default: false },
  { key: 'ous', group: 'Accounts', flag: '--ous', kind: 'list', arg: '<ou-…,…>', description: 'with --organization: only the accounts under these organizational units (or roots), at any depth', default: [] },
  { key: 'excludeAccounts', group: 'Accounts', flag: '--exclude-accounts', kind: 'list', arg: '<id,…>', description: 'leave these accounts out', default: [] },
  { key: 'includeCallerAccount', group: 'Accounts', flag: '--include-caller-account', kind: 'boolean', description: "with --organization: also the caller's own (management) account, with the caller's credentials", default: false },
  { key: 'roleName', group: 'Accounts', flag: '--role-name', kind: 'string', arg: '<name>', description: 'the role assumed in each account', default: 'OrganizationAccountAccessRole' },
  { key: 'externalId', group: 'Accounts', flag: '--external-id', kind: 'string', arg: '<id>', description: 'the external id the role requires' },
  { key: 'roleSessionName', group: 'Accounts', flag: '--role-session-name', kind: 'string', arg: '<name>', description: 'the session name of the assumed role (in CloudTrail)', default: 'ssm-setup' },
  { key: 'maxConcurrency', group: 'Accounts', flag: '--max-concurrency', kind: 'number', arg: '<n>', description: 'accounts and regions worked on at once, 1-32', default: 4 },
  { key: 'sshConfig', group: 'Local', flag: '--ssh-config', kind: 'boolean', description: 'write the SSH block for i-*/mi-* hosts (ProxyCommand through Session Manager) into the SSH config', default: false },
  { key: 'sshConfigPath', group: 'Local', flag: '--ssh-config-path', kind: 'string', arg: '<file>', description: 'SSH config file of the ssh-config step and command', defaultText: '~/.ssh/config' },
] as const satisfies readonly SettingSpec[];

export const ALL_SETTINGS: readonly SettingSpec[] = [...GLOBAL_SETTINGS, ...STEP_SETTINGS];

/** The environment variables of a setting, in the order they are read. */
export const envVars = (spec: Pick<SettingSpec, 'env'>): readonly string[] =>
  spec.env === undefined ? [] : typeof spec.env === 'string' ? [spec.env] : spec.env;

/** Old names still accepted, as flag and config key, with a warning naming the new one. */
export const RENAMED: readonly { readonly from: string; readonly fromFlag: string; readonly to: string }[] = [
  { from: 'tags', fromFlag: '--tags', to: 'resourceTags' },
];

type Row = (typeof GLOBAL_SETTINGS)[number] | (typeof STEP_SETTINGS)[number];
type WithDefault = Extract<Row, { default: unknown }>;
/** The built-in defaults by config key (the lowest layer of the settings). */
export type Defaults = { readonly [R in WithDefault as R['key']]: R['default'] };

export const DEFAULTS = Object.fromEntries(ALL_SETTINGS.filter((s) => s.default !== undefined).map((s) => [s.key, s.default])) as Defaults;

/** The default as help shows it, or undefined when there is nothing worth saying (off, empty). */
export function defaultLabel(spec: SettingSpec): string | undefined {
  if (spec.defaultText) return spec.defaultText;
  const d = spec.default;
  if (d === undefined || d === false || d === '' || spec.kind === 'negated') return undefined;
  if (Array.isArray(d) || typeof d === 'object') return undefined;
  return String(d);
}

const byKey = new Map(ALL_SETTINGS.map((s) => [s.key, s]));
export const settingSpec = (key: string): SettingSpec | undefined => byKey.get(key);
