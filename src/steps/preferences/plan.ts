import type { ChangeRisk } from '../../core/report.js';
import type { Change, PlanInput } from '../../core/step.js';
import type { KeyRef } from '../../policies/kms-ref.js';
import {
  describeDiff,
  diffPreferences,
  PREFERENCES_DOCUMENT,
  type PreferenceDiff,
  type PreferencesDocument,
  preferencesDocument,
} from '../../policies/preferences-document.js';
import { bucketNameFor } from '../log-bucket/read.js';
import { oneRisk, withRisk } from '../shared/risk.js';
import type { PreferencesState } from './read.js';

export type PreferencesChange = 'create-document' | 'update-field' | 'normalize' | 'set-default';

const RESOURCE = `preferences ${PREFERENCES_DOCUMENT}`;

export const keyRefOf = (input: PlanInput): KeyRef => ({ arn: input.outputs.kmsKeyArn, id: input.outputs.kmsKeyId, alias: input.settings.keyAlias });

/** The document these settings want; the key ARN stands in by its alias while the key is still to be created. */
export function desiredPreferences(input: PlanInput): PreferencesDocument {
  const { settings, outputs, identity, region } = input;
  return preferencesDocument({
    bucketName: outputs.bucketName ?? bucketNameFor(settings, identity.account, region),
    s3Prefix: settings.s3Prefix,
    keyArn: outputs.kmsKeyArn ?? `(the new key ${settings.keyAlias})`,
    logGroupName: settings.cloudwatchLogs ? settings.logGroup : undefined,
    idleTimeout: settings.idleTimeout,
    maxSessionDuration: settings.maxSessionDuration,
    runAs: settings.runAs,
    shellProfileLinux: settings.shellProfileLinux,
    shellProfileWindows: settings.shellProfileWindows,
  });
}

/**
 * Pure. Compares what sessions use now (the default version) with the desired document, by
 * meaning: one line per field that differs. A default version left behind an already
 * correct latest version (an interrupted update) is healed by setting the default only.
 */
export function planPreferences(state: PreferencesState, input: PlanInput): Change<PreferencesChange>[] {
  const desired = desiredPreferences(input);
  if (state.kind === 'absent') {
    const i = desired.inputs;
    const logs = i.cloudWatchLogGroupName ? `, CloudWatch ${i.cloudWatchLogGroupName}` : '';
    const detail = `logs to s3://${i.s3BucketName}/${i.s3KeyPrefix}${logs}; encrypted with ${input.settings.keyAlias}; idle ${i.idleSessionTimeout} min; Run As ${i.runAsDefaultUser || 'off'}`;
    return [{ kind: 'create-document', action: 'create', resource: RESOURCE, detail }];
  }
  const { doc } = state;
  const key = keyRefOf(input);
  const diffs = diffPreferences(doc.defaultInputs, desired.inputs, key);
  const real = diffs.filter((d) => !d.formOnly);
  if (!real.length) {
    const forms = diffs.map((d) => d.field);
    return forms.length && input.settings.normalize
      ? [{ kind: 'normalize', action: 'update', resource: RESOURCE, detail: `rewrite ${forms.join(', ')} as real JSON values (--normalize)` }]
      : [];
  }
  const latestIsDesired = doc.latestInputs && !diffPreferences(doc.latestInputs, desired.inputs, key).some((d) => !d.formOnly);
  if (latestIsDesired) {
    // Sessions move to the latest version: what that weakens against the default one, said once.
    const risk = oneRisk(real.map((d) => preferenceRisk(d, real)));
    return [
      {
        kind: 'set-default',
        action: 'update',
        resource: RESOURCE,
        detail: `default version ${doc.defaultVersion} → ${doc.latestVersion} (the latest, left behind by an interrupted update)`,
        ...withRisk(risk),
      },
    ];
  }
  const forms = diffs.filter((d) => d.formOnly).map((d) => d.field);
  return [
    ...real.map((d) => ({
      kind: 'update-field' as const,
      action: 'update' as const,
      resource: `${RESOURCE} ${d.field}`,
      detail: describeDiff(d),
      ...withRisk(preferenceRisk(d, real)),
    })),
    ...(forms.length
      ? [{ kind: 'normalize' as const, action: 'update' as const, resource: RESOURCE, detail: `also rewrites ${forms.join(', ')} as real JSON values` }]
      : []),
  ];
}

/** Form-only differences are left alone without --normalize: say so. */
export function preferencesNote(state: PreferencesState, input: PlanInput): string | undefined {
  if (state.kind === 'absent' || input.settings.normalize) return undefined;
  const diffs = diffPreferences(state.doc.defaultInputs, desiredPreferences(input).inputs, keyRefOf(input));
  const forms = diffs.filter((d) => d.formOnly).map((d) => d.field);
  return forms.length && !diffs.some((d) => !d.formOnly)
    ? `${forms.join(', ')} hold the right values in another JSON form (e.g. "true"); --normalize rewrites them`
    : undefined;
}

const on = (v: unknown) => v === true || v === 'true';
const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
/** Minutes of a timeout field; '' (unset) is Session Manager's default: 20 idle, no maximum. */
const minutes = (v: unknown, unset: number) => (text(v) === '' ? unset : Number(text(v)));

/**
 * Pure: what one changed field of the preferences weakens, judged from the deployed value
 * (`all`: every field that changes, so turning CloudWatch Logs off is marked once, on the group
 * name, and not again on its streaming and encryption switches). The whole list is in
 * test/steps/weakening.test.ts.
 */
export function preferenceRisk(d: PreferenceDiff, all: readonly PreferenceDiff[]): ChangeRisk | undefined {
  const audit = (why: string): ChangeRisk => ({ kind: 'weakens-audit', why });
  const security = (why: string): ChangeRisk => ({ kind: 'weakens-security', why });
  const groupGoes = all.some((o) => o.field === 'cloudWatchLogGroupName' && text(o.from) !== '' && text(o.to) === '');
  switch (d.field) {
    case 's3BucketName':
      return text(d.from) !== '' && text(d.to) === '' ? audit(`session logs are no longer written to S3 (bucket ${text(d.from)})`) : undefined;
    case 's3EncryptionEnabled':
      return on(d.from) && !on(d.to) ? security('session logs may be written to S3 unencrypted') : undefined;
    case 'cloudWatchLogGroupName':
      return groupGoes ? audit(`session logs are no longer sent to CloudWatch Logs (log group ${text(d.from)})`) : undefined;
    case 'cloudWatchStreamingEnabled':
      return on(d.from) && !on(d.to) && !groupGoes
        ? audit('session logs reach CloudWatch Logs only when a session ends: one cut short leaves none')
        : undefined;
    case 'cloudWatchEncryptionEnabled':
      return on(d.from) && !on(d.to) && !groupGoes ? security('session logs may be sent to an unencrypted log group') : undefined;
    case 'kmsKeyId':
      return text(d.from) !== '' && text(d.to) === '' ? security('session data is no longer encrypted with a KMS key of yours') : undefined;
    case 'runAsEnabled':
      return on(d.from) && !on(d.to) ? security('Run As off: sessions start as ssm-user, which has sudo rights, instead of a named OS user') : undefined;
    case 'idleSessionTimeout': {
      const [was, now] = [minutes(d.from, 20), minutes(d.to, 20)];
      return now > was ? security(`an idle session stays open ${now} minutes instead of ${was}`) : undefined;
    }
    case 'maxSessionDuration': {
      const [was, now] = [minutes(d.from, Number.POSITIVE_INFINITY), minutes(d.to, Number.POSITIVE_INFINITY)];
      if (!(now > was)) return undefined;
      return security(now === Number.POSITIVE_INFINITY ? `sessions no longer end after ${was} minutes` : `sessions may last ${now} minutes instead of ${was}`);
    }
    default:
      return undefined;
  }
}
