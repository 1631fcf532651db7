import { GetDocumentCommand, paginateDescribeSessions, type SessionFilter, SSMClient } from '@aws-sdk/client-ssm';
import { errorName, isAccessDenied } from '../aws/errors.js';
import { pool } from '../base/batch.js';
import type { Clients } from '../core/clients.js';
import { filterTime } from './window.js';

/** One session as DescribeSessions lists it, with the list it came from. */
export interface AuditSession {
  readonly id: string;
  readonly target: string;
  readonly owner: string;
  /** Empty when DescribeSessions names none (the default shell document). */
  readonly document: string;
  readonly start?: Date;
  readonly end?: Date;
  /** Connected, Connecting, Disconnected, Terminated, Terminating, Failed. */
  readonly status: string;
  /** `Active`: still running; `History`: ended. */
  readonly state: 'Active' | 'History';
}

/** DescribeSessions' largest page. */
export const SESSIONS_PAGE = 200;
/** Up to this many targets are listed one by one with the Target filter; more: the whole window, kept by target here. */
const TARGET_FILTER_MAX = 5;

/**
 * The sessions of the window: every running one (State Active) and the ended ones started
 * since `since` (State History, InvokedAfter), each list paginated by 200. With a few `targets`, one
 * listing per target (the Target filter); with more, the whole window, kept by target. Newest
 * first, each session once.
 */
export async function listSessions(aws: Clients, query: { readonly since: Date; readonly targets?: readonly string[] }): Promise<AuditSession[]> {
  const ssm = aws.get(SSMClient);
  const wanted = query.targets && new Set(query.targets);
  const byTarget = query.targets && query.targets.length <= TARGET_FILTER_MAX ? query.targets : [undefined];
  const found = new Map<string, AuditSession>();
  for (const target of byTarget) {
    for (const state of ['Active', 'History'] as const) {
      const Filters: SessionFilter[] = [
        ...(state === 'History' ? [{ key: 'InvokedAfter' as const, value: filterTime(query.since) }] : []),
        ...(target ? [{ key: 'Target' as const, value: target }] : []),
      ];
      const pages = paginateDescribeSessions({ client: ssm, pageSize: SESSIONS_PAGE }, { State: state, ...(Filters.length ? { Filters } : {}) });
      for await (const page of pages) {
        for (const s of page.Sessions ?? []) {
          if (!s.SessionId || (wanted && !wanted.has(s.Target ?? ''))) continue;
          // Active is listed first: a session that ends in between is in both, and History wins.
          found.set(s.SessionId, {
            id: s.SessionId,
            target: s.Target ?? '',
            owner: s.Owner ?? '',
            document: s.DocumentName ?? '',
            ...(s.StartDate ? { start: s.StartDate } : {}),
            ...(s.EndDate ? { end: s.EndDate } : {}),
            status: s.Status ?? '',
            state,
          });
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => (b.start?.getTime() ?? 0) - (a.start?.getTime() ?? 0));
}

/** What a session document says of itself: its session type, and its inputs (a Standard_Stream document's own logging). */
export interface DocumentInfo {
  readonly sessionType?: string;
  readonly inputs?: Record<string, unknown>;
}

/** Documents whose type is known without reading them (AWS owns them). */
const KNOWN = /^(SSM-SessionManagerRunShell|AWS-StartSSHSession|AWS-StartPortForwardingSession.*|AWS-Start(Non)?InteractiveCommand)$/;

/**
 * The session type (and inputs) of each other document the sessions name: one GetDocument per
 * distinct name, a few at a time. A document that is gone or may not be read is left out: its
 * sessions are judged as shell sessions of the preferences.
 */
export async function readDocuments(aws: Clients, names: Iterable<string>): Promise<Map<string, DocumentInfo>> {
  const ssm = aws.get(SSMClient);
  const out = new Map<string, DocumentInfo>();
  const unknown = [...new Set(names)].filter((n) => n && !KNOWN.test(n));
  await pool(unknown, 4, async (Name) => {
    try {
      const doc = await ssm.send(new GetDocumentCommand({ Name }));
      out.set(Name, documentInfo(doc.Content ?? ''));
    } catch (err) {
      if (!isAccessDenied(err) && !/InvalidDocument/.test(errorName(err))) throw err;
    }
  });
  return out;
}

/** Pure: the session type and inputs of a document's content, JSON or YAML (the type only). */
export function documentInfo(content: string): DocumentInfo {
  try {
    const doc = JSON.parse(content) as { sessionType?: unknown; inputs?: unknown };
    return {
      ...(typeof doc.sessionType === 'string' ? { sessionType: doc.sessionType } : {}),
      ...(doc.inputs && typeof doc.inputs === 'object' ? { inputs: doc.inputs as Record<string, unknown> } : {}),
    };
  } catch {
    const type = /^sessionType:\s*['"]?([A-Za-z_]+)/m.exec(content)?.[1];
    return type ? { sessionType: type } : {};
  }
}
