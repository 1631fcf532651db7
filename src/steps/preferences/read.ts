import { DescribeDocumentCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
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

export async function readPreferences(ctx: Pick<ReadContext, 'aws'>): Promise<PreferencesState> {
  const ssm = ctx.aws.get(SSMClient);
  const Name = PREFERENCES_DOCUMENT;
  const described = await unlessMissing(ssm.send(new DescribeDocumentCommand({ Name })), 'InvalidDocument');
  const d = described?.Document;
  if (!d) return { kind: 'absent' };
  const defaultVersion = d.DefaultVersion ?? '1';
  const latestVersion = d.LatestVersion ?? defaultVersion;
  const [defaultInputs, latestInputs] = await Promise.all([
    inputsOf(ssm, defaultVersion),
    latestVersion !== defaultVersion ? inputsOf(ssm, latestVersion) : undefined,
  ]);
  const tags = tagRecord(d.Tags);
  return { kind: 'present', doc: { defaultVersion, latestVersion, status: d.Status ?? 'Active', tags, defaultInputs, latestInputs } };
}

/** The `inputs` of one version; undefined for content that is not JSON (a YAML document). */
export async function inputsOf(ssm: SSMClient, DocumentVersion: string): Promise<Record<string, unknown> | undefined> {
  const out = await ssm.send(new GetDocumentCommand({ Name: PREFERENCES_DOCUMENT, DocumentVersion }));
  try {
    return (JSON.parse(out.Content ?? '{}') as { inputs?: Record<string, unknown> }).inputs ?? {};
  } catch {
    return undefined;
  }
}
