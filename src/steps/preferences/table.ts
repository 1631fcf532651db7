/** The fields the table names itself; any other field of the document is listed as it is. */
const KNOWN = new Set([
  's3BucketName',
  's3KeyPrefix',
  's3EncryptionEnabled',
  'cloudWatchLogGroupName',
  'cloudWatchEncryptionEnabled',
  'cloudWatchStreamingEnabled',
  'kmsKeyId',
  'runAsEnabled',
  'runAsDefaultUser',
  'idleSessionTimeout',
  'maxSessionDuration',
  'shellProfile',
]);

const on = (v: unknown) => v === true || v === 'true';
const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/**
 * Pure: the `inputs` of a preferences document as a person reads them, one setting a line
 * (`  Idle timeout   20 minutes`), whatever JSON form the values take; fields it does not know
 * are listed as they are. The wizard shows it before asking.
 */
export function preferencesTable(inputs: Readonly<Record<string, unknown>>): string[] {
  const shell = (inputs.shellProfile ?? {}) as Record<string, unknown>;
  const minutes = (v: unknown, none: string) => (text(v) === '' ? none : `${text(v)} minutes`);
  const rows: [string, string][] = [
    [
      'S3 logging',
      text(inputs.s3BucketName)
        ? `s3://${text(inputs.s3BucketName)}/${text(inputs.s3KeyPrefix)}${on(inputs.s3EncryptionEnabled) ? ' (encrypted)' : ' (encryption not required)'}`
        : 'off',
    ],
    [
      'CloudWatch Logs',
      text(inputs.cloudWatchLogGroupName)
        ? `${text(inputs.cloudWatchLogGroupName)} (${on(inputs.cloudWatchStreamingEnabled) ? 'streamed' : 'sent when a session ends'}, ${on(inputs.cloudWatchEncryptionEnabled) ? 'encrypted' : 'encryption not required'})`
        : 'off',
    ],
    ['KMS key', text(inputs.kmsKeyId) || 'none (session data not encrypted with a key of yours)'],
    ['Run As', on(inputs.runAsEnabled) ? text(inputs.runAsDefaultUser) || '(on, no user)' : 'off (sessions run as ssm-user)'],
    ['Idle timeout', minutes(inputs.idleSessionTimeout, '20 minutes (the default)')],
    ['Max session', minutes(inputs.maxSessionDuration, 'none')],
    ['Linux shell profile', text(shell.linux) ? JSON.stringify(text(shell.linux)) : 'none'],
    ['Windows shell profile', text(shell.windows) ? JSON.stringify(text(shell.windows)) : 'none'],
    ...Object.entries(inputs)
      .filter(([k]) => !KNOWN.has(k))
      .map(([k, v]): [string, string] => [k, JSON.stringify(v)]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
}
