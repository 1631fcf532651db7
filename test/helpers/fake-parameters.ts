import {
  DeleteParameterCommand,
  GetParameterCommand,
  HierarchyLevelLimitExceededException,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { ACCOUNT, REGION } from './fixtures.js';

/** One version of a parameter, as Parameter Store keeps it. */
export interface FakeParameterVersion {
  readonly value: string;
  readonly version: number;
  readonly type: string;
  readonly tier: string;
  readonly modified: Date;
}

export interface FakeParameter {
  /** Oldest first; at most 100 (the oldest is dropped, as Parameter Store does). */
  readonly versions: FakeParameterVersion[];
  readonly tags: Record<string, string>;
}

export interface FakeParametersOptions {
  /**
   * Register the handlers on this SSMClient stub instead of mocking the client anew (a second
   * `mockClient(SSMClient)` replaces the first): e.g. fake-fleet's `ssm`, so both answer. Its
   * `calls()` and `writes()` then count the parameter calls only. AddTagsToResource is left to
   * fake-ssm (tags come with PutParameter here).
   */
  readonly mock?: AwsClientStub<SSMClient>;
  readonly region?: string;
}

type Hook = () => void;
type Tag = { Key?: string; Value?: string };
interface PutInput {
  Name?: string;
  Value?: string;
  Type?: string;
  Tier?: string;
  Overwrite?: boolean;
  Tags?: Tag[];
}

const meta = { $metadata: {} };
const OWN = new Set([PutParameterCommand, GetParameterCommand, DeleteParameterCommand].map((c) => c.name));
const MAX_VERSIONS = 100;
const invalid = (message: string) => new ValidationException({ message, ...meta });
const notFound = (name: string) => new ParameterNotFound({ message: `Parameter ${name} not found.`, ...meta });

/**
 * The naming rules of Parameter Store (user guide, "Parameter name requirements and
 * constraints"): letters, digits, `_.-` and, in a hierarchy, `/`; a hierarchy is fully qualified
 * (leading `/`) and at most 15 levels deep; no name (nor its first level) may begin with `aws` or
 * `ssm`, whatever the case.
 */
export function parameterNameProblem(name: string): Error | undefined {
  if (!name || name.length > 1011) return invalid('Parameter name must be between 1 and 1011 characters');
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) return invalid('Parameter name: only a mix of letters, numbers and the symbols .-_/ is allowed');
  if (name.includes('/') && !name.startsWith('/')) return invalid('Parameter name must be a fully qualified name (begin with /)');
  if (/^\/?(aws|ssm)/i.test(name)) return invalid('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  if (name.split('/').length - 1 > 15) return new HierarchyLevelLimitExceededException({ message: 'A hierarchy can have a maximum of 15 levels.', ...meta });
  return undefined;
}

/**
 * A small stateful Parameter Store behind aws-sdk-client-mock: PutParameter, GetParameter,
 * DeleteParameter, as strict as AWS. A create needs a Type and fails with ParameterAlreadyExists
 * when the name exists unless `Overwrite: true` (the compare-and-set the lease relies on); every
 * write makes the next version (1 after a delete); Tags and Overwrite together are refused;
 * a Standard value is at most 4 KB; `GetParameter` takes `name:version`; the name rules above.
 *
 * Another writer is simulated with `beforeNextPut(fn)`: it runs just before the next PutParameter
 * is checked, e.g. `() => fake.put(NAME, '{…}')`.
 */
export function fakeParameters(opts: FakeParametersOptions = {}) {
  const mock = opts.mock ?? mockClient(SSMClient);
  const shared = opts.mock !== undefined;
  const region = opts.region ?? REGION;
  const params = new Map<string, FakeParameter>();
  const beforePut: Hook[] = [];

  /** A write, as PutParameter makes it once the request is valid. */
  const write = (name: string, value: string, { type = 'String', tier = 'Standard', tags = {} as Record<string, string> } = {}) => {
    const existing = params.get(name);
    const param = existing ?? { versions: [], tags: {} };
    const last = param.versions.at(-1);
    const entry = { value, version: (last?.version ?? 0) + 1, type: last?.type ?? type, tier, modified: new Date() };
    param.versions.push(entry);
    if (param.versions.length > MAX_VERSIONS) param.versions.shift();
    Object.assign(param.tags, tags);
    params.set(name, param);
    return entry;
  };

  mock.on(PutParameterCommand).callsFake(async (i: PutInput) => {
    beforePut.shift()?.();
    const name = i.Name ?? '';
    const problem = parameterNameProblem(name);
    if (problem) throw problem;
    if (!i.Value)
      throw invalid("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.");
    const tier = i.Tier ?? 'Standard';
    if (tier === 'Standard' && Buffer.byteLength(i.Value) > 4096) throw invalid('Standard parameters can be at most 4 KB');
    if (i.Overwrite && i.Tags?.length) {
      throw invalid(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    const exists = params.has(name);
    if (exists && !i.Overwrite)
      throw new ParameterAlreadyExists({
        message: 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        ...meta,
      });
    if (!exists && !i.Type) throw invalid('A parameter type is required when you create a parameter.');
    const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const entry = write(name, i.Value, { type: i.Type, tier, tags });
    return { Version: entry.version, Tier: entry.tier };
  });

  mock.on(GetParameterCommand).callsFake(async (i: { Name?: string }) => {
    const [name = '', selector, ...rest] = (i.Name ?? '').split(':');
    const param = params.get(name);
    if (!param || rest.length) throw notFound(i.Name ?? '');
    const entry = selector === undefined ? param.versions.at(-1) : param.versions.find((v) => String(v.version) === selector);
    if (!entry) throw new ParameterVersionNotFound({ message: `Systems Manager could not find version ${selector} of ${name}.`, ...meta });
    return {
      Parameter: {
        Name: name,
        Type: entry.type,
        Value: entry.value,
        Version: entry.version,
        LastModifiedDate: entry.modified,
        ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
        DataType: 'text',
        ...(selector === undefined ? {} : { Selector: `:${selector}` }),
      },
    };
  });

  mock.on(DeleteParameterCommand).callsFake(async (i: { Name?: string }) => {
    if (!params.delete(i.Name ?? '')) throw notFound(i.Name ?? '');
    return {};
  });

  const calls = () =>
    mock
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((name) => !shared || OWN.has(name));

  return {
    mock,
    params,
    /** Another writer (or a run before this one) writes `value`, as PutParameter with Overwrite would. Returns the version. */
    put(name: string, value: string | object, tags: Record<string, string> = {}) {
      return write(name, typeof value === 'string' ? value : JSON.stringify(value), { tags }).version;
    },
    /** The current value, parsed when it is JSON, or undefined. */
    value(name: string): unknown {
      const text = params.get(name)?.versions.at(-1)?.value;
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
    /** Runs just before the next PutParameter is checked: another writer's moment. */
    beforeNextPut(fn: Hook) {
      beforePut.push(fn);
    },
    /** Every call so far, by command name, in order (on a shared stub: the parameter calls only). */
    calls,
    writes: () => calls().filter(isWriteCall),
  };
}

export type FakeParameters = ReturnType<typeof fakeParameters>;
