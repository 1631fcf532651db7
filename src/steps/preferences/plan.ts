import type { Change, PlanInput } from '../../core/step.js';
import type { KeyRef } from '../../policies/kms-ref.js';
import { describeDiff, diffPreferences, PREFERENCES_DOCUMENT, type PreferencesDocument, preferencesDocument } from '../../policies/preferences-document.js';
import { bucketNameFor } from '../log-bucket/read.js';
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
    return [
      {
        kind: 'set-default',
        action: 'update',
        resource: RESOURCE,
        detail: `default version ${doc.defaultVersion} → ${doc.latestVersion} (the latest, left behind by an interrupted update)`,
      },
    ];
  }
  const forms = diffs.filter((d) => d.formOnly).map((d) => d.field);
  return [
    ...real.map((d) => ({ kind: 'update-field' as const, action: 'update' as const, resource: `${RESOURCE} ${d.field}`, detail: describeDiff(d) })),
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
