import { describeInstances } from '../aws/targets.js';
import { accountFindings } from '../check/account.js';
import { findRecords, keyArnOf, placesFrom, type RecordPlaces, type SessionRecords } from '../check/records.js';
import type { AuditSessionView, AuditSummary } from '../core/report.js';
import type { ReadContext } from '../core/step.js';
import { readPreferences } from '../steps/preferences/read.js';
import { type AuditSession, listSessions, readDocuments } from './sessions.js';
import { type Causes, judge, kindOf, NOT_LOGGED_REASON, type SessionKind, sessionView, summarize } from './status.js';

export { DEFAULT_SINCE, historyWarning, parseSince } from './window.js';

/** What `ssm-setup audit` found: every session of the window with its status, and the counts. */
export interface AuditResult {
  readonly since: Date;
  readonly sessions: readonly AuditSessionView[];
  readonly summary: AuditSummary;
  /** Said once, above the counts: the sessions that are never content-logged. */
  readonly warnings: readonly string[];
}

/**
 * Read-only: every session since `since` (narrowed to `--instance-ids` and `--tag`) matched
 * with the records its preferences require: the S3 object and the CloudWatch Logs stream. The
 * preferences and what they point at are read once, as `check` reads them (their findings are
 * the likely causes of a missing record); a Standard_Stream document of its own logs where its
 * inputs say. No write call.
 */
export async function runAudit(ctx: ReadContext, opts: { readonly since: Date }): Promise<AuditResult> {
  const prefs = await readPreferences(ctx);
  const { findings, claims } = await accountFindings(ctx, prefs);
  const causes: Causes = { findings, ...(claims?.bucketKeyArn ? { bucketKeyArn: claims.bucketKeyArn } : {}) };
  const prefsPlaces = claims ? placesFrom(claims.inputs, claims.keyArn) : undefined;

  const targets = await narrowedTargets(ctx);
  const sessions = await listSessions(ctx.aws, { since: opts.since, ...(targets ? { targets } : {}) });
  const documents = await readDocuments(
    ctx.aws,
    sessions.map((s) => s.document),
  );
  const kinds = new Map(sessions.map((s) => [s.id, kindOf(s.document, documents.get(s.document))]));

  // Each distinct destination is looked up once, for all the sessions that write to it.
  const placesOf = await documentPlaces(ctx, sessions, kinds, documents, prefsPlaces);
  const records = new Map<string, SessionRecords>();
  const groups = new Map<string, { places: RecordPlaces; ids: string[] }>();
  for (const s of sessions) {
    const places = placesOf.get(s.document);
    if (s.state !== 'History' || kinds.get(s.id) === 'tunnel' || !places) continue;
    const key = JSON.stringify(places);
    const group = groups.get(key) ?? { places, ids: [] };
    group.ids.push(s.id);
    groups.set(key, group);
  }
  for (const { places, ids } of groups.values()) for (const [id, r] of await findRecords(ctx.aws, places, ids)) records.set(id, r);

  const views = sessions.map((s) => sessionView(s, judge(s, kinds.get(s.id)!, placesOf.get(s.document), records.get(s.id), causes), records.get(s.id)));
  const summary = summarize(views);
  const tunnels = sessions.filter((s) => s.state === 'History' && kinds.get(s.id) === 'tunnel').length;
  const warnings = tunnels
    ? [
        `${tunnels} session${tunnels === 1 ? ' is' : 's are'} not content-logged (SSH, SCP, port forwarding): ${NOT_LOGGED_REASON}; \`ssm-setup run operator-policy --deny-unlogged-sessions\` denies them to operators`,
      ]
    : [];
  return { since: opts.since, sessions: views, summary, warnings };
}

/** The targets of `--instance-ids` (as given: sessions of terminated instances count too) and `--tag`; undefined: every target. */
async function narrowedTargets(ctx: ReadContext): Promise<string[] | undefined> {
  const { instanceIds, tag } = ctx.settings;
  if (!instanceIds.length && !tag.length) return undefined;
  const tagged = tag.length
    ? await describeInstances(
        ctx.aws,
        tag.map((t) => ({ Name: `tag:${t.key}`, Values: [t.value] })),
      )
    : [];
  return [...new Set([...instanceIds, ...tagged.map((t) => t.id)])];
}

/**
 * The destinations of each document the sessions name: the preferences' for the shell and
 * command documents, a Standard_Stream document's own inputs when it has any (its key resolved
 * once); undefined when no preferences exist.
 */
async function documentPlaces(
  ctx: ReadContext,
  sessions: readonly AuditSession[],
  kinds: ReadonlyMap<string, SessionKind>,
  documents: Awaited<ReturnType<typeof readDocuments>>,
  prefsPlaces: RecordPlaces | undefined,
): Promise<Map<string, RecordPlaces | undefined>> {
  const out = new Map<string, RecordPlaces | undefined>();
  for (const s of sessions) {
    if (out.has(s.document)) continue;
    const inputs = documents.get(s.document)?.inputs;
    if (kinds.get(s.id) === 'shell' && inputs) {
      const keyId = typeof inputs.kmsKeyId === 'string' && inputs.kmsKeyId ? inputs.kmsKeyId : undefined;
      out.set(s.document, placesFrom(inputs, await keyArnOf(ctx.aws, keyId)));
    } else out.set(s.document, prefsPlaces);
  }
  return out;
}
