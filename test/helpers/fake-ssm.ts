import {
  AddTagsToResourceCommand,
  CreateDocumentCommand,
  DescribeDocumentCommand,
  DocumentAlreadyExists,
  DuplicateDocumentContent,
  GetDocumentCommand,
  InvalidDocument,
  InvalidDocumentVersion,
  InvalidResourceId,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { type LossOptions, lossyAnswers } from './lost-answer.js';

export interface FakeDocument {
  /** Content of version n at index n - 1. */
  versions: string[];
  /** A version number, 1-based. */
  defaultVersion: number;
  documentType: string;
  tags: Record<string, string>;
}

type Hook = () => void;

export interface FakeSsmOptions {
  /**
   * Register the handlers on this SSMClient stub instead of mocking the client anew (a second
   * `mockClient(SSMClient)` replaces the first): e.g. fake-fleet's `ssm`, so both answer. Its
   * `calls()` and `writes()` then count the documents calls only.
   */
  readonly mock?: AwsClientStub<SSMClient>;
  /**
   * SSM processes a new version asynchronously: CreateDocument and UpdateDocument answer
   * `Creating` / `Updating`, and so does the next DescribeDocument of that document before it
   * is `Active` (API reference, DocumentDescription.Status). Default off: Active at once.
   */
  readonly settling?: boolean;
}

const meta = { $metadata: {} };
/** The commands this fake answers. */
const OWN = new Set(
  [
    AddTagsToResourceCommand,
    CreateDocumentCommand,
    DescribeDocumentCommand,
    GetDocumentCommand,
    UpdateDocumentCommand,
    UpdateDocumentDefaultVersionCommand,
  ].map((c) => c.name),
);
const missing = (name: string) => new InvalidDocument({ message: `Document ${name} does not exist in your account`, ...meta });
const badVersion = (message: string) => new InvalidDocumentVersion({ message, ...meta });

/**
 * A small stateful SSM documents API behind aws-sdk-client-mock, enough for the preferences
 * document: versions, a default version, tags. Like SSM, only the latest version can be
 * updated (by its number or `$LATEST`), content equal to any existing version is refused
 * as DuplicateDocumentContent, and an update never moves the default.
 *
 * Another writer is simulated with `beforeNextUpdate(fn)` (runs just before the next
 * UpdateDocument is checked, e.g. `() => fake.addVersion(...)`) and `afterNextSetDefault(fn)`;
 * `nextStatuses(...)` makes the next DescribeDocument calls report those statuses.
 */
export function fakeSsm(opts: FakeSsmOptions = {}) {
  const mock = opts.mock ?? mockClient(SSMClient);
  const shared = opts.mock !== undefined;
  const docs = new Map<string, FakeDocument>();
  const beforeUpdate: Hook[] = [];
  const afterSetDefault: Hook[] = [];
  const statuses: string[] = [];
  /** Documents whose new version is still being processed (`settling`): the status the next DescribeDocument reports. */
  const settling = new Map<string, string>();

  const find = (name: string | undefined) => {
    const doc = docs.get(name ?? '');
    if (!doc) throw missing(name ?? '');
    return doc;
  };
  const text = (content: string | object) => (typeof content === 'string' ? content : JSON.stringify(content));
  const description = (name: string, doc: FakeDocument, version = doc.defaultVersion) => ({
    Name: name,
    DocumentType: doc.documentType,
    DocumentFormat: 'JSON' as const,
    DocumentVersion: String(version),
    DefaultVersion: String(doc.defaultVersion),
    LatestVersion: String(doc.versions.length),
    Status: 'Active' as const,
    Tags: Object.entries(doc.tags).map(([Key, Value]) => ({ Key, Value })),
  });

  const losses = lossyAnswers();
  /** Every handler goes through `losses`, so any call can lose its answer. */
  const on = <I>(command: { name: string }, fn: (input: I) => unknown) =>
    (mock.on as (c: unknown) => { callsFake(f: unknown): unknown })(command).callsFake(losses.wrap(command, fn));

  on(DescribeDocumentCommand, async (i: { Name?: string }) => {
    const doc = find(i.Name);
    const pending = settling.get(i.Name!);
    settling.delete(i.Name!);
    const Status = statuses.shift() ?? pending ?? 'Active';
    return { Document: { ...description(i.Name!, doc), Status } };
  });

  on(GetDocumentCommand, async (i: { Name?: string; DocumentVersion?: string }) => {
    const doc = find(i.Name);
    const version = i.DocumentVersion === undefined ? doc.defaultVersion : i.DocumentVersion === '$LATEST' ? doc.versions.length : Number(i.DocumentVersion);
    const Content = doc.versions[version - 1];
    if (!Number.isInteger(version) || Content === undefined) throw badVersion(`Version ${i.DocumentVersion} of ${i.Name} does not exist`);
    return { Name: i.Name, Content, DocumentVersion: String(version), DocumentFormat: 'JSON', DocumentType: doc.documentType, Status: 'Active' };
  });

  on(CreateDocumentCommand, async (i: { Name?: string; Content?: string; DocumentType?: string; Tags?: { Key?: string; Value?: string }[] }) => {
    const name = i.Name ?? '';
    if (docs.has(name)) throw new DocumentAlreadyExists({ message: `Document with same name ${name} already exists`, ...meta });
    const doc = {
      versions: [i.Content ?? ''],
      defaultVersion: 1,
      documentType: i.DocumentType ?? 'Command',
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    };
    docs.set(name, doc);
    if (opts.settling) settling.set(name, 'Creating');
    return { DocumentDescription: { ...description(name, doc, 1), Status: 'Creating' as const } };
  });

  on(UpdateDocumentCommand, async (i: { Name?: string; Content?: string; DocumentVersion?: string }) => {
    beforeUpdate.shift()?.();
    const doc = find(i.Name);
    const latest = String(doc.versions.length);
    if (i.DocumentVersion !== '$LATEST' && i.DocumentVersion !== latest) {
      throw badVersion(`The document version is not valid or does not exist: only the latest version (${latest}) can be updated`);
    }
    if (doc.versions.includes(i.Content ?? ''))
      throw new DuplicateDocumentContent({ message: 'The content of the association document matches another document', ...meta });
    doc.versions.push(i.Content ?? '');
    if (opts.settling) settling.set(i.Name!, 'Updating');
    return { DocumentDescription: { ...description(i.Name!, doc, doc.versions.length), Status: 'Updating' as const } };
  });

  on(UpdateDocumentDefaultVersionCommand, async (i: { Name?: string; DocumentVersion?: string }) => {
    const doc = find(i.Name);
    const v = i.DocumentVersion ?? '';
    if (!/^([1-9][0-9]*)$/.test(v) || Number(v) > doc.versions.length) throw badVersion(`Version ${v} of ${i.Name} is not valid`);
    doc.defaultVersion = Number(v);
    afterSetDefault.shift()?.();
    return { Description: { Name: i.Name, DefaultVersion: v } };
  });

  on(AddTagsToResourceCommand, async (i: { ResourceType?: string; ResourceId?: string; Tags?: { Key?: string; Value?: string }[] }) => {
    const doc = i.ResourceType === 'Document' ? docs.get(i.ResourceId ?? '') : undefined;
    if (!doc) throw new InvalidResourceId({ message: `${i.ResourceType} ${i.ResourceId} not found`, ...meta });
    for (const t of i.Tags ?? []) doc.tags[t.Key ?? ''] = t.Value ?? '';
    return {};
  });

  const calls = () =>
    mock
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((name) => !shared || OWN.has(name));

  return {
    mock,
    docs,
    /** A document made outside ssm-setup (console, another tool): its versions, default = latest unless given. */
    seed(name: string, versions: readonly (string | object)[], opts: { defaultVersion?: number; tags?: Record<string, string>; documentType?: string } = {}) {
      const doc = {
        versions: versions.map(text),
        defaultVersion: opts.defaultVersion ?? versions.length,
        documentType: opts.documentType ?? 'Session',
        tags: { ...opts.tags },
      };
      docs.set(name, doc);
      return doc;
    },
    /** Another writer adds a version (the default does not move). Returns its number. */
    addVersion(name: string, content: string | object) {
      const doc = find(name);
      doc.versions.push(text(content));
      return String(doc.versions.length);
    },
    /** Another writer moves the default. */
    setDefault(name: string, version: number) {
      find(name).defaultVersion = version;
    },
    /** Parsed content of one version (default when omitted). */
    content(name: string, version?: number) {
      const doc = find(name);
      return JSON.parse(doc.versions[(version ?? doc.defaultVersion) - 1]!) as { inputs: Record<string, unknown> } & Record<string, unknown>;
    },
    /**
     * The next call(s) of `command` are carried out, then their answer is lost (a reset
     * connection, or a 500): see test/helpers/lost-answer.ts for what the client then sees.
     */
    loseAnswerOnce: (command: { name: string }, opts?: LossOptions) => losses.lose(command, opts),
    /** Requests of `command` that reached SSM, the SDK's retries included. */
    attempts: (command: { name: string }) => losses.attempts(command),
    beforeNextUpdate(fn: Hook) {
      beforeUpdate.push(fn);
    },
    afterNextSetDefault(fn: Hook) {
      afterSetDefault.push(fn);
    },
    nextStatuses(...list: string[]) {
      statuses.push(...list);
    },
    /** Every call so far, by command name, in order (on a shared stub: the documents calls only). */
    calls,
    /** Write calls made so far (CreateDocument, UpdateDocument, …). */
    writes: () => calls().filter(isWriteCall),
  };
}
