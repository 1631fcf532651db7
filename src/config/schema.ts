import { z } from 'zod';

/** CloudWatch Logs' allowed retention values (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** The tag every resource ssm-setup creates carries; `destroy` touches nothing without it. */
export const MANAGED_BY_TAG = { key: 'ManagedBy', value: 'ssm-setup' } as const;

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

const keyValue = z.string().regex(/^[^=]+=.*$/, { error: 'must be Key=Value' });

/** AWS tag rules, checked per key so each message names the offending tag. */
function tagProblem(key: string, value: string): string | undefined {
  if (!key || key.length > 128) return 'tag keys are 1 to 128 characters';
  if (key.toLowerCase().startsWith('aws:')) return 'tag keys must not start with aws:';
  if (key === MANAGED_BY_TAG.key) return `${MANAGED_BY_TAG.key} is set by ssm-setup itself`;
  if (value.length > 256) return 'tag values are at most 256 characters';
  return undefined;
}

/** `--tags` / `tags`: a list of K=V (flag) or an object (config file) → a map. */
const resourceTags = z
  .union([z.array(keyValue), z.record(z.string(), z.string())])
  .transform((v) => (Array.isArray(v) ? Object.fromEntries(v.map(splitKeyValue)) : v) as Record<string, string>)
  .superRefine((tags, ctx) => {
    for (const [key, value] of Object.entries(tags)) {
      const message = tagProblem(key, value);
      if (message) ctx.addIssue({ code: 'custom', path: [key], message });
    }
    if (Object.keys(tags).length > 49) ctx.addIssue({ code: 'custom', message: 'at most 49 tags (AWS allows 50, one is ManagedBy)' });
  });

export function splitKeyValue(s: string): [string, string] {
  const i = s.indexOf('=');
  return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
}

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
    regions: z.array(z.string().regex(REGION, { error: 'is not an AWS region name (like eu-west-1)' })),
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
    s3Prefix: z
      .string()
      .max(512, { error: 'must be at most 512 characters' })
      .regex(/^[A-Za-z0-9!_.*'()/=-]*$/, { error: "may hold only letters, digits and !_.*'()/=-" })
      .refine((p) => !p.startsWith('/') && !p.includes('//'), { error: 'must not start with / or contain //' }),
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
    operatorUsers: z.array(iamName(64)),
    operatorGroups: z.array(iamName(128)),
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
    instanceIds: z.array(z.string().regex(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/, { error: 'is not an instance id (i- and 8 or 17 hex digits)' })),
    /** Target filter: instances carrying every one of these tags. */
    tag: z.array(keyValue).transform((l) =>
      l.map((s) => {
        const [key, value] = splitKeyValue(s);
        return { key, value };
      }),
    ),
    /** @default true */
    cloudwatchAgent: z.boolean({ error: 'must be true or false' }),
    /** @default true */
    agentUpdate: z.boolean({ error: 'must be true or false' }),
    /** @default true */
    hostManagement: z.boolean({ error: 'must be true or false' }),
    /** Default Host Management Configuration. @default false */
    dhmc: z.boolean({ error: 'must be true or false' }),
    /** Extra tags for created resources; ManagedBy=ssm-setup is always added. */
    tags: resourceTags,
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

/** Tags for everything ssm-setup creates: the operator's `--tags` plus ManagedBy=ssm-setup. */
export const resourceTagsFor = (settings: Pick<Settings, 'tags'>): Record<string, string> => ({
  ...settings.tags,
  [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value,
});
