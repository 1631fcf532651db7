import * as z from 'zod';
import { type GivenTag, givenTags, MANAGED_BY_TAG, resourceTagProblems, type TagProblem, targetTagProblems } from './tags.js';

// The settings are parsed once or twice a run: compiling zod's fast path (new Function) costs more than it saves.
z.config({ jitless: true });

/** CloudWatch Logs' allowed retention values (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export { MANAGED_BY_TAG, splitKeyValue } from './tags.js';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

const wholeNumber = (min: number, max: number, what = `from ${min} to ${max}`) =>
  z
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be ${what}` })
    .max(max, { error: `must be ${what}` });

// S3 bucket naming rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const bucketName = z
  .string()
  .min(3, { error: 'must be 3 to 63 characters' })
  .max(63, { error: 'must be 3 to 63 characters' })
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, {
    error: 'may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit',
  })
  .refine((s) => !s.includes('..'), { error: 'must not contain two adjacent dots' })
  .refine((s) => !/^\d+\.\d+\.\d+\.\d+$/.test(s), { error: 'must not look like an IP address' })
  .refine((s) => !/^(xn--|sthree-|amzn-s3-demo-)/.test(s), { error: 'must not start with xn--, sthree- or amzn-s3-demo-' })
  .refine((s) => !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(s), {
    error: 'must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)',
  });

const iamName = (max: number) =>
  z.string().regex(new RegExp(`^[\\w+=,.@-]{1,${max}}$`), { error: `must be 1 to ${max} characters of letters, digits and +=,.@_-` });

/** An array, with a message that says so: a config file must give a list as a JSON array. */
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: 'must be a list (a JSON array in the config file)' });

const keyValue = z.string({ error: 'must be Key=Value' }).regex(/^[^=]+=/, { error: 'must be Key=Value' });

/** Reports tag problems on the setting being checked: one issue each, at its tag. */
const reportTags = (check: (tags: readonly GivenTag[]) => TagProblem[]) => (tags: readonly GivenTag[], ctx: z.RefinementCtx) => {
  for (const p of check(tags)) ctx.addIssue({ code: 'custom', path: p.at === undefined ? [] : [p.at], message: p.message });
};

/** `--resource-tags` / `resourceTags`: a list of K=V (flag) or an object (config file) → a map, by the rules of tags.ts. */
const resourceTags = z
  .union([z.array(keyValue), z.record(z.string(), z.string({ error: 'tag values must be strings' }))], {
    error: 'must be Key=Value pairs (an object or a list of "Key=Value" in the config file)',
  })
  .transform((v) => givenTags(v))
  .superRefine(reportTags(resourceTagProblems))
  .transform((tags) => Object.fromEntries(tags.map((t) => [t.key, t.value])) as Record<string, string>);

/** `--tag` / `tag`: target filters, each Key=Value, by the filter rules of tags.ts. */
const targetTags = list(keyValue)
  .transform((v) => givenTags(v).map((t, i) => ({ ...t, at: i })))
  .superRefine(reportTags(targetTagProblems))
  .transform((tags) => tags.map(({ key, value }) => ({ key, value })));

/** Each region once: two runs of one region at the same time would race each other. */
const regionList = list(z.string().regex(REGION, { error: 'is not an AWS region name (like eu-west-1)' })).superRefine((regions, ctx) => {
  regions.forEach((r, i) => {
    // The loader shows the repeated value beside the message (got "…").
    if (regions.indexOf(r) < i) ctx.addIssue({ code: 'custom', path: [i], message: 'is given twice: two runs in one region would race each other' });
  });
});

/** AWS account ids: 12 digits each, each once. */
const accountList = list(z.string().regex(/^\d{12}$/, { error: 'is not an AWS account id (12 digits)' })).superRefine((ids, ctx) => {
  ids.forEach((id, i) => {
    if (ids.indexOf(id) < i) ctx.addIssue({ code: 'custom', path: [i], message: 'is given twice' });
  });
});

/** Key prefix of the session logs: S3's safe characters, and no path tricks. */
const s3Prefix = z
  .string()
  .max(512, { error: 'must be at most 512 characters' })
  .regex(/^[A-Za-z0-9!_.*'()/=-]*$/, { error: "may hold only letters, digits and !_.'()/=-" })
  .refine((p) => !p.startsWith('/') && !p.includes('//'), { error: 'must not start with / or contain //' })
  .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), { error: 'must not hold . or .. as a path segment (./, ../)' })
  // The instance policy grants s3:PutObject on `bucket/<prefix>*`: a * in the prefix would widen it.
  .refine((p) => !p.includes('*'), { error: 'must not hold * (the instance policy would read it as a wildcard)' });

/**
 * Every setting of the contract, validated. Defaults live in the settings table (settings.ts), not in
 * the schema, so the loader can tell which layer a value came from and name it in errors.
 */
export const settingsSchema = z
  .strictObject({
    /** AWS shared-config profile. */
    profile: z.string().min(1, { error: 'must not be empty' }).optional(),
    /** Region, e.g. eu-west-1. */
    region: z.string().regex(REGION, { error: 'is not an AWS region name (like eu-west-1)' }).optional(),
    /** Several regions in one run (init, plan, run); wins over `region`. */
    regions: regionList,
    /** Accept a region the installed SDK does not list (newer than this ssm-setup). @default false */
    allowUnknownRegion: z.boolean({ error: 'must be true or false' }),
    /** One endpoint for every service (a local emulator); S3 is then addressed in path style. */
    endpointUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** @default alias/ssm-session-manager */
    keyAlias: z
      .string()
      .max(256, { error: 'must be at most 256 characters' })
      .regex(/^alias\/[A-Za-z0-9/_-]+$/, { error: 'must be alias/ followed by letters, digits, /, _ or -' })
      .refine((a) => !a.startsWith('alias/aws/'), { error: 'must not start with alias/aws/ (reserved for AWS managed keys)' }),
    /** @default ssm-session-logs-<account>-<region> */
    bucket: bucketName.optional(),
    /** @default session-logs/ */
    s3Prefix,
    /** An empty prefix on a bucket ssm-setup did not create puts every object of it under the lifecycle rule. @default false */
    s3PrefixWholeBucket: z.boolean({ error: 'must be true or false' }),
    /** @default 90; 0 = no transition */
    logTransitionDays: wholeNumber(0, 36500, '0 (off) or a number of days'),
    /** @default 365; 0 = never expire */
    logExpirationDays: wholeNumber(0, 36500, '0 (never) or a number of days'),
    /** @default false */
    cloudwatchLogs: z.boolean({ error: 'must be true or false' }),
    /** @default /aws/ssm/session-logs */
    logGroup: z
      .string()
      .regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, { error: 'must be 1 to 512 characters of letters, digits and ._-/#' })
      .refine((g) => !g.startsWith('aws/'), { error: 'must not start with aws/ (reserved)' }),
    /** @default 365 */
    logRetentionDays: z.number({ error: 'must be a whole number' }).refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
      error: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
    /** @default SSMSessionManagerInstanceRole */
    instanceRole: iamName(64),
    /** @default SSMSessionManagerInstancePolicy */
    instancePolicy: iamName(128),
    /** @default SSMSessionManagerOperatorPolicy */
    operatorPolicy: iamName(128),
    /** @default restricted */
    operatorAccess: z.enum(['restricted', 'full'], { error: 'must be restricted or full' }),
    operatorUsers: list(iamName(64)),
    operatorGroups: list(iamName(128)),
    /** Minutes. @default 20 */
    idleTimeout: wholeNumber(1, 60),
    /** Minutes; none by default. */
    maxSessionDuration: wholeNumber(1, 1440).optional(),
    /** OS user for sessions; Run As is off (ssm-user) by default. */
    runAs: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a Linux user name (lower-case letters, digits, _ and -, at most 32)' })
      .refine((u) => u !== 'root', { error: 'root is refused: sessions must not run as root' })
      .optional(),
    /** Rewrite a preferences document whose values differ only in form. @default false */
    normalize: z.boolean({ error: 'must be true or false' }),
    shellProfileLinux: z.string().max(16_384, { error: 'must be at most 16384 characters' }),
    shellProfileWindows: z.string().max(16_384, { error: 'must be at most 16384 characters' }),
    instanceIds: list(z.string().regex(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/, { error: 'is not an instance id (i- and 8 or 17 hex digits)' })),
    /** Target filter: instances carrying every one of these tags. */
    tag: targetTags,
    /** @default true */
    cloudwatchAgent: z.boolean({ error: 'must be true or false' }),
    /** @default true */
    agentUpdate: z.boolean({ error: 'must be true or false' }),
    /** @default true */
    hostManagement: z.boolean({ error: 'must be true or false' }),
    /** Default Host Management Configuration. @default false */
    dhmc: z.boolean({ error: 'must be true or false' }),
    /** Extra tags for created resources; ManagedBy=ssm-setup is always added (old name: tags). */
    resourceTags,
    /** Create the VPC endpoints Session Manager needs for private targets. @default false */
    vpcEndpoints: z.boolean({ error: 'must be true or false' }),
    /** Leave SSH and port forwarding out of the operator policy, and deny them. @default false */
    denyUnloggedSessions: z.boolean({ error: 'must be true or false' }),
    /** Accounts to set up by assuming `roleName` in each (12-digit ids). */
    accounts: accountList,
    /** Every ACTIVE account of the caller's organization. @default false */
    organization: z.boolean({ error: 'must be true or false' }),
    /** With `organization`: only the accounts under these OUs (or roots), recursively. */
    ous: list(z.string().regex(/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/, { error: 'is not an organizational unit id (ou-…) or root id (r-…)' })),
    /** Accounts left out. */
    excludeAccounts: accountList,
    /** With `organization`: the caller's own account too. @default false */
    includeCallerAccount: z.boolean({ error: 'must be true or false' }),
    /** @default OrganizationAccountAccessRole */
    roleName: iamName(64),
    /** sts:AssumeRole's ExternalId: 2 to 1224 characters of letters, digits and +=,.@:/_-. */
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, { error: 'must be 2 to 1224 characters of letters, digits and +=,.@:/_-' })
      .optional(),
    /** sts:AssumeRole's RoleSessionName. @default ssm-setup */
    roleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, { error: 'must be 2 to 64 characters of letters, digits and +=,.@_-' }),
    /** Accounts × regions at once. @default 4 */
    maxConcurrency: wholeNumber(1, 32),
    /** Write the managed SSH block during init (asked interactively). @default false */
    sshConfig: z.boolean({ error: 'must be true or false' }),
    /** The SSH config file; undefined means ~/.ssh/config. A leading ~ is the home directory. */
    sshConfigPath: z.string().trim().min(1, { error: 'must not be empty' }).optional(),
  })
  .superRefine((s, ctx) => {
    // Only between two values that passed their own rules: one bad value, one message.
    const valid = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 36500;
    if (!valid(s.logExpirationDays) || !valid(s.logTransitionDays)) return;
    if (s.logExpirationDays !== 0 && s.logTransitionDays !== 0 && s.logExpirationDays <= s.logTransitionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['logExpirationDays'],
        message: `must be greater than the transition days (${s.logTransitionDays}), or 0 for never`,
      });
    }
  });

export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof z.input<typeof settingsSchema>;

/** Checks one value against its setting's rule: true, or the message (for prompt validation). */
export function checkSetting(key: keyof typeof settingsSchema.shape, value: unknown): string | true {
  const result = settingsSchema.shape[key].safeParse(value);
  return result.success ? true : (result.error.issues[0]?.message ?? 'is not valid');
}

/** Tags for everything ssm-setup creates: the operator's `--resource-tags` plus ManagedBy=ssm-setup. */
export const resourceTagsFor = (settings: Pick<Settings, 'resourceTags'>): Record<string, string> => ({
  ...settings.resourceTags,
  [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value,
});
