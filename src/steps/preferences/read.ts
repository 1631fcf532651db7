import { DescribeDocumentCommand, GetDocumentCommand, type GetDocumentCommandOutput, SSMClient } from '@aws-sdk/client-ssm';
import { unlessMissing } from '../../aws/errors.js';
import type { ReadContext } from '../../core/step.js';
import { PREFERENCES_DOCUMENT } from '../../policies/preferences-document.js';
import { tagRecord } from '../../policies/tags.js';

/** Tag recording the default version the document had before ssm-setup first changed it (for `destroy`). */
export const ORIGINAL_DEFAULT_TAG = 'ssm-setup:original-default-version';

export interface DocumentInfo {
  readonly defaultVersion: string;
  readonly latestVersion: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /** `inputs` of the default version, as found (any JSON forms). */
  readonly defaultInputs?: Record<string, unknown>;
  /** `inputs` of the latest version when it is not the default. */
  readonly latestInputs?: Record<string, unknown>;
}

export type PreferencesState = { readonly kind: 'absent' } | { readonly kind: 'present'; readonly doc: DocumentInfo };

/**
 * The document's description and the inputs of its default and latest versions. DescribeDocument
 * and GetDocument of the default version go out at once (one round trip: a rerun reads both
 * anyway, a first run pays one InvalidDocument); the latest version, when it is not the default,
 * is read once the description names it, and so is the default when GetDocument answered for
 * another version than the one the description calls the default (another writer moved it), or
 * failed (the document was made between the two).
 */
export async function readPreferences(ctx: Pick<ReadContext, 'aws'>): Promise<PreferencesState> {
  const ssm = ctx.aws.get(SSMClient);
  const Name = PREFERENCES_DOCUMENT;
  const current = ssm.send(new GetDocumentCommand({ Name }));
  current.catch(() => {}); // passed over when the document is absent; else awaited below
  const described = await unlessMissing(ssm.send(new DescribeDocumentCommand({ Name })), 'InvalidDocument');
  const d = described?.Document;
  if (!d) return { kind: 'absent' };
  const defaultVersion = d.DefaultVersion ?? '1';
  const latestVersion = d.LatestVersion ?? defaultVersion;
  // Refused, or for another version: the default is read by its number, which has the last word.
  const byNumber = () => getVersion(ssm, defaultVersion);
  const defaultOut = current.then((out) => (out.DocumentVersion === defaultVersion ? out : byNumber()), byNumber);
  const [defaultInputs, latestInputs] = await Promise.all([
    defaultOut.then(inputsIn),
    latestVersion !== defaultVersion ? inputsOf(ssm, latestVersion) : undefined,
  ]);
  const tags = tagRecord(d.Tags);
  return { kind: 'present', doc: { defaultVersion, latestVersion, status: d.Status ?? 'Active', tags, defaultInputs, latestInputs } };
}

const getVersion = (ssm: SSMClient, DocumentVersion: string) => ssm.send(new GetDocumentCommand({ Name: PREFERENCES_DOCUMENT, DocumentVersion }));

/** The `inputs` of a GetDocument answer; undefined for content that is not JSON (a YAML document). */
function inputsIn(out: GetDocumentCommandOutput): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(out.Content ?? '{}') as { inputs?: Record<string, unknown> }).inputs ?? {};
  } catch {
    return undefined;
  }
}

/** The `inputs` of one version; undefined for content that is not JSON (a YAML document). */
export async function inputsOf(ssm: SSMClient, DocumentVersion: string): Promise<Record<string, unknown> | undefined> {
  return inputsIn(await getVersion(ssm, DocumentVersion));
}
