import {
  DeleteDocumentCommand,
  DescribeDocumentCommand,
  GetDocumentCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { unlessMissing } from '../aws/errors.js';
import { PREFERENCES_DOCUMENT as Name, preferencesDocument } from '../policies/preferences-document.js';
import { tagRecord } from '../policies/tags.js';
import { ORIGINAL_DEFAULT_TAG } from '../steps/preferences/read.js';
import { isOurs, type Removal, type Teardown, type TeardownContext } from './types.js';

const RESOURCE = `preferences ${Name}`;

export interface PreferencesTeardown extends Teardown {
  /**
   * The `kmsKeyId` of the preferences that remain once these removals have run (read only with
   * --delete-logs, for the key): undefined when none remain or they name no key.
   */
  readonly keyAfter?: string;
}

/**
 * The preferences go back to what they were, but only while their default version is still the
 * one ssm-setup wrote: a document ssm-setup created is deleted; one it adopted gets back the
 * default version recorded (tag) before its first change. When someone else made another
 * version the default since, the document is theirs now: it stays as it is, and the plan says so.
 */
export async function preferencesTeardown(ctx: TeardownContext): Promise<PreferencesTeardown> {
  const ssm = ctx.aws.get(SSMClient);
  const doc = (await unlessMissing(ssm.send(new DescribeDocumentCommand({ Name })), 'InvalidDocument'))?.Document;
  if (!doc) return { removals: [], kept: [] };
  const content = async (DocumentVersion: string) => (await ssm.send(new GetDocumentCommand({ Name, DocumentVersion }))).Content ?? '';
  const keyOf = async (version: string) => (ctx.deleteLogs ? kmsKeyIdOf(await content(version)) : undefined);
  const tags = tagRecord(doc.Tags);
  const ours = isOurs(tags);
  const original = tags[ORIGINAL_DEFAULT_TAG];
  const current = doc.DefaultVersion ?? '1';
  if (!ours && !original) return { removals: [], kept: [], keyAfter: await keyOf(current) };
  const untag = () => ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Document', ResourceId: Name, TagKeys: [ORIGINAL_DEFAULT_TAG] }));
  if (!ours && current === original) {
    // Back at the version from before ssm-setup (by someone, or a destroy stopped half-way): only our tag is left.
    const removal: Removal = {
      step: 'preferences',
      action: 'update',
      resource: RESOURCE,
      detail: `default version ${current} is the one from before ssm-setup: remove the ${ORIGINAL_DEFAULT_TAG} tag`,
      run: async () => void (await untag()),
    };
    return { removals: [removal], kept: [], keyAfter: await keyOf(current) };
  }
  const now = await content(current);
  if (!writtenBySsmSetup(now)) {
    const why = `its default version ${current} is not one ssm-setup wrote (someone changed the preferences since): left as it is`;
    return { removals: [], kept: [{ step: 'preferences', resource: RESOURCE, why }], keyAfter: ctx.deleteLogs ? kmsKeyIdOf(now) : undefined };
  }
  // A prompt can stay open for minutes: the default is read again just before it is touched.
  const unchanged = async () => {
    const at = (await unlessMissing(ssm.send(new DescribeDocumentCommand({ Name })), 'InvalidDocument'))?.Document?.DefaultVersion;
    if (at === current) return true;
    ctx.io.warn(`${Name}: its default version changed to ${at ?? '(none)'} since the plan: left as it is`);
    return false;
  };
  if (ours) {
    const removal: Removal = {
      step: 'preferences',
      action: 'delete',
      resource: RESOURCE,
      detail: 'ssm-setup created it: delete it (Session Manager falls back to its defaults)',
      run: async () => {
        if (await unchanged()) await unlessMissing(ssm.send(new DeleteDocumentCommand({ Name })), 'InvalidDocument');
      },
    };
    return { removals: [removal], kept: [] };
  }
  const removal: Removal = {
    step: 'preferences',
    action: 'update',
    resource: RESOURCE,
    detail: `default version ${current} → ${original} (as it was before ssm-setup)`,
    run: async () => {
      if (!(await unchanged())) return;
      await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name, DocumentVersion: original }));
      await untag();
    },
  };
  return { removals: [removal], kept: [], keyAfter: await keyOf(original!) };
}

/**
 * True when `content` is exactly a document ssm-setup writes (`preferencesDocument`, the
 * preferences step): the same fields in the same order, of the same JSON types, its description
 * naming ssm-setup, for the values it holds. Whatever the settings of this destroy, a version an
 * earlier `init` or `run preferences` wrote is recognised; one made in the console (its own
 * description, "true" strings) or edited by another tool is not. JSON white space is ignored.
 */
export function writtenBySsmSetup(content: string): boolean {
  let doc: { inputs?: Record<string, unknown> };
  try {
    doc = JSON.parse(content) as typeof doc;
  } catch {
    return false;
  }
  const i = doc?.inputs;
  if (!i || typeof i !== 'object') return false;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const shell = (i.shellProfile ?? {}) as Record<string, unknown>;
  const rebuilt = preferencesDocument({
    bucketName: text(i.s3BucketName),
    s3Prefix: text(i.s3KeyPrefix),
    keyArn: text(i.kmsKeyId),
    logGroupName: text(i.cloudWatchLogGroupName) || undefined,
    idleTimeout: Number(i.idleSessionTimeout),
    maxSessionDuration: Number(i.maxSessionDuration) || undefined,
    runAs: text(i.runAsDefaultUser) || undefined,
    shellProfileLinux: text(shell.linux),
    shellProfileWindows: text(shell.windows),
  });
  return JSON.stringify(doc) === JSON.stringify(rebuilt);
}

/** The key the preferences encrypt sessions with (`inputs.kmsKeyId`), if any. */
function kmsKeyIdOf(content: string): string | undefined {
  try {
    const id = (JSON.parse(content) as { inputs?: { kmsKeyId?: unknown } }).inputs?.kmsKeyId;
    return typeof id === 'string' && id ? id : undefined;
  } catch {
    return undefined;
  }
}
