import {
  AddTagsToResourceCommand,
  CreateDocumentCommand,
  DescribeDocumentCommand,
  type DocumentDescription,
  GetDocumentCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { errorName } from '../../aws/errors.js';
import { createOrFind } from '../../aws/lost-answers.js';
import { consistency } from '../../aws/retry.js';
import { StepError } from '../../base/errors.js';
import { checkSetting, MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Step, StepContext } from '../../core/step.js';
import type { KeyRef } from '../../policies/kms-ref.js';
import { diffPreferences, PREFERENCES_DOCUMENT as Name, type PreferencesDocument } from '../../policies/preferences-document.js';
import { tagList, tagRecord } from '../../policies/tags.js';
import { sameJson } from '../../policies/types.js';
import { askNumber, unanswered } from '../shared/ask.js';
import { requireKeyArn } from '../shared/session-key.js';
import { desiredPreferences, keyRefOf, type PreferencesChange, planPreferences, preferencesNote } from './plan.js';
import { inputsOf, ORIGINAL_DEFAULT_TAG, type PreferencesState, readPreferences } from './read.js';
import { preferencesTable } from './table.js';

/** How many older versions a duplicate-content answer is looked up in. */
const LOOKBACK = 25;

/** Runbook steps 6 to 9: the regional Session Manager preferences, created or adopted and updated. */
export const preferencesStep: Step<PreferencesState, PreferencesChange> = {
  id: 'preferences',
  ask: askPreferences,
  read: readPreferences,
  plan: planPreferences,
  note: preferencesNote,

  async apply(ctx, state, changes) {
    requireKeyArn(ctx, 'preferences');
    const ssm = ctx.aws.get(SSMClient);
    const desired = desiredPreferences(ctx);
    const Content = JSON.stringify(desired, null, 2);
    let version: string;
    // What CreateDocument answered (its status, that it made version 1 with our content): not read again.
    let created: { readonly status?: string } | undefined;
    if (state.kind === 'absent') {
      const Tags = tagList(resourceTagsFor(ctx.settings));
      // A lost answer: the SDK's retry meets DocumentAlreadyExists, done when the document is ours with this content.
      version = await createOrFind(
        async () => {
          const d = (await ssm.send(new CreateDocumentCommand({ Name, Content, DocumentType: 'Session', DocumentFormat: 'JSON', Tags }))).DocumentDescription;
          created = { status: d?.Status };
          return d?.DocumentVersion ?? '1';
        },
        ['DocumentAlreadyExists'],
        () => ourDocument(ssm, desired),
      );
    } else {
      await recordOriginalDefault(ssm, state);
      version = changes.every((c) => c.kind === 'set-default') ? state.doc.latestVersion : await updateContent(ssm, Content, state.doc.latestVersion, desired);
    }
    const described = created?.status === 'Active' ? undefined : await waitActive(ssm);
    if (created) {
      // Version 1 with the content just sent, the default of a new document: known, not read back.
      checkDefault(version, described?.DefaultVersion ?? version);
      return { preferencesVersion: version };
    }
    if (state.kind === 'present') await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name, DocumentVersion: version }));
    // Written on top of a document others may write too: read back what is the default now.
    await verify(ssm, version, desired, keyRefOf(ctx));
    return { preferencesVersion: version };
  },

  outputs: (state) => (state.kind === 'present' ? { preferencesVersion: state.doc.defaultVersion } : undefined),
};

/** The version of the document that holds `desired` when the document is ours (tagged ManagedBy) and that is its latest, else undefined. */
async function ourDocument(ssm: SSMClient, desired: PreferencesDocument): Promise<string | undefined> {
  const d = (await ssm.send(new DescribeDocumentCommand({ Name }))).Document;
  if (tagRecord(d?.Tags)[MANAGED_BY_TAG.key] !== MANAGED_BY_TAG.value || !d?.LatestVersion) return undefined;
  const out = await ssm.send(new GetDocumentCommand({ Name, DocumentVersion: d.LatestVersion }));
  try {
    return sameJson(JSON.parse(out.Content ?? '{}'), desired) ? d.LatestVersion : undefined;
  } catch {
    return undefined; // not JSON: not what we wrote
  }
}

/** Before ssm-setup first changes a document it did not create, the default version is recorded for `destroy`. */
async function recordOriginalDefault(ssm: SSMClient, state: Extract<PreferencesState, { kind: 'present' }>) {
  const { tags, defaultVersion } = state.doc;
  if (tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value || tags[ORIGINAL_DEFAULT_TAG]) return;
  await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Document', ResourceId: Name, Tags: [{ Key: ORIGINAL_DEFAULT_TAG, Value: defaultVersion }] }));
}

/**
 * Writes a new version on top of the latest one we read. Another writer in between makes the
 * version stale: reread and retry once. Content equal to an older version is refused by SSM:
 * that version is found and becomes the default instead.
 */
async function updateContent(ssm: SSMClient, Content: string, latestRead: string, desired: PreferencesDocument): Promise<string> {
  const update = (DocumentVersion: string) => ssm.send(new UpdateDocumentCommand({ Name, Content, DocumentVersion, DocumentFormat: 'JSON' }));
  let latest = latestRead;
  try {
    const out = await update(latest).catch(async (err: unknown) => {
      if (errorName(err) !== 'InvalidDocumentVersion') throw err;
      latest = (await ssm.send(new DescribeDocumentCommand({ Name }))).Document?.LatestVersion ?? latest;
      return update(latest);
    });
    return out.DocumentDescription?.DocumentVersion ?? latest;
  } catch (err) {
    if (errorName(err) !== 'DuplicateDocumentContent') throw err;
    for (let v = Number(latest); v >= Math.max(1, Number(latest) - LOOKBACK); v--) {
      if (sameJson(await inputsOf(ssm, String(v)), desired.inputs)) return String(v);
    }
    throw err;
  }
}

/** A new version is usable once the document is Active again; returns the description that said so. */
async function waitActive(ssm: SSMClient): Promise<DocumentDescription | undefined> {
  const deadline = Date.now() + consistency.timeoutMs;
  for (;;) {
    const d = (await ssm.send(new DescribeDocumentCommand({ Name }))).Document;
    const status = d?.Status;
    if (status === 'Active') return d;
    if (status === 'Failed' || Date.now() > deadline)
      throw new StepError('preferences', 'DOCUMENT_NOT_ACTIVE', `${Name} is ${status ?? 'not ready'}, not Active`, {
        hint: 'check the document in the Systems Manager console, then rerun `ssm-setup run preferences`',
      });
    await new Promise((r) => setTimeout(r, consistency.delayMs));
  }
}

/** The default version SSM reports is the one chosen. */
function checkDefault(version: string, defaultVersion: string | undefined): void {
  if (defaultVersion !== version) {
    throw new StepError('preferences', 'DEFAULT_VERSION_MISMATCH', `${Name}: default version is ${defaultVersion}, expected ${version} after the update`, {
      hint: 'another writer may be changing the preferences; rerun `ssm-setup run preferences`',
    });
  }
}

/** Reads back: the default version is the one chosen, and it means what is desired (key by id, "true" for true allowed). */
async function verify(ssm: SSMClient, version: string, desired: PreferencesDocument, key: KeyRef): Promise<void> {
  checkDefault(version, (await ssm.send(new DescribeDocumentCommand({ Name }))).Document?.DefaultVersion);
  if (diffPreferences(await inputsOf(ssm, version), desired.inputs, key).some((d) => !d.formOnly)) {
    throw new StepError('preferences', 'DOCUMENT_VERIFY_FAILED', `${Name} version ${version} does not hold what was written`, {
      hint: 'rerun `ssm-setup run preferences`',
    });
  }
}

/** The wizard: current values shown, each asked with the current (or default) value preselected. */
async function askPreferences(ctx: StepContext): Promise<Record<string, unknown>> {
  const state = await readPreferences(ctx);
  const now = state.kind === 'present' ? (state.doc.defaultInputs ?? {}) : {};
  if (state.kind === 'present')
    ctx.io.info([`Current Session Manager preferences (version ${state.doc.defaultVersion}):`, ...preferencesTable(now)].join('\n'));
  ctx.io.warn('SSH, SCP and port-forwarding sessions are not content-logged by Session Manager (their traffic is end-to-end encrypted).');
  const answers: Record<string, unknown> = {};
  if (unanswered(ctx, 'idleTimeout')) {
    const current = Number(now.idleSessionTimeout) || undefined;
    answers.idleTimeout = await askNumber(ctx, {
      id: 'preferences.idle-timeout',
      message: 'Idle session timeout, minutes (1-60)',
      key: 'idleTimeout',
      default: current,
    });
  }
  const text = async (id: string, key: 'maxSessionDuration' | 'runAs' | 'shellProfileLinux', message: string, current: string, flag: string) => {
    const v = await ctx.io.input({
      id,
      message,
      default: current,
      flag,
      validate: (s) => (s === '' ? true : checkSetting(key, key === 'maxSessionDuration' ? Number(s) : s)),
    });
    return v === '' ? undefined : key === 'maxSessionDuration' ? Number(v) : v;
  };
  if (unanswered(ctx, 'maxSessionDuration')) {
    answers.maxSessionDuration = await text(
      'preferences.max-session-duration',
      'maxSessionDuration',
      'Maximum session duration, minutes (1-1440, empty for none)',
      String(now.maxSessionDuration ?? ''),
      '--max-session-duration',
    );
  }
  if (unanswered(ctx, 'runAs')) {
    const current = now.runAsEnabled === true || now.runAsEnabled === 'true' ? String(now.runAsDefaultUser ?? '') : '';
    answers.runAs = await text(
      'preferences.run-as',
      'runAs',
      'Run sessions as this OS user (empty: ssm-user). It must exist on every instance',
      current,
      '--run-as',
    );
  }
  if (unanswered(ctx, 'shellProfileLinux')) {
    const current = String((now.shellProfile as { linux?: string } | undefined)?.linux ?? '');
    answers.shellProfileLinux =
      (await text(
        'preferences.shell-profile-linux',
        'shellProfileLinux',
        'Commands run at the start of Linux sessions (empty for none)',
        current,
        '--shell-profile-linux',
      )) ?? '';
  }
  return Object.fromEntries(Object.entries(answers).filter(([, v]) => v !== undefined));
}
