import { DescribeInstancesCommand, type DescribeInstancesCommandInput, EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveTargets } from '../../src/aws/targets.js';
import { BATCH } from '../../src/base/batch.js';
import { UsageError } from '../../src/base/errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { REGION, settingsFrom, testClients } from '../helpers/fixtures.js';

const newEc2Mock = () => mockClient(EC2Client);
let ec2: ReturnType<typeof newEc2Mock>;
beforeEach(() => {
  ec2 = newEc2Mock();
});
afterEach(() => ec2.restore());

const idOf = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const LIVE = ['pending', 'running', 'stopping', 'stopped'];

const instance = (n: number, tags: Record<string, string> = {}, state = 'running', over: Partial<Instance> = {}): Instance => ({
  InstanceId: idOf(n),
  State: { Name: state as 'running' },
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  ...over,
});

/** The value of an instance a filter looks at, as EC2 understands the filters resolveTargets uses. */
function filterValue(i: Instance, name: string): string | undefined {
  if (name === 'instance-id') return i.InstanceId;
  if (name === 'instance-state-name') return i.State?.Name;
  if (name.startsWith('tag:')) return i.Tags?.find((t) => t.Key === name.slice(4))?.Value;
  throw new Error(`unexpected filter ${name}`);
}

/**
 * DescribeInstances over `instances`: filters ANDed (values ORed) as EC2 does, answers in pages
 * of `pageSize` reservations with a NextToken.
 */
function region(instances: Instance[], pageSize = 1000) {
  tokens.length = 0;
  ec2.on(DescribeInstancesCommand).callsFake(async (input: DescribeInstancesCommandInput) => {
    tokens.push(input.NextToken);
    const matching = instances.filter((i) => (input.Filters ?? []).every((f) => (f.Values ?? []).includes(filterValue(i, f.Name!) ?? '\u0000')));
    const start = Number(input.NextToken ?? 0);
    const end = start + pageSize;
    return { Reservations: matching.slice(start, end).map((i) => ({ Instances: [i] })), NextToken: end < matching.length ? String(end) : undefined };
  });
}

/** NextToken of each call, taken when it is made (the SDK's paginator reuses one input object). */
const tokens: (string | undefined)[] = [];
const filtersOfCalls = () => ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters ?? []);
const filter = (filters: Filter[], name: string) => filters.find((f) => f.Name === name);
const resolve = async (flags: Record<string, unknown>) => resolveTargets(testClients(), (await settingsFrom(flags)).settings, REGION);

describe('resolveTargets', () => {
  it('asks nothing when neither ids nor tags were given', async () => {
    region([instance(1)]);
    expect(await resolve({})).toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('looks ids up 50 per call, each call limited to live instances', async () => {
    expect(BATCH).toBe(50);
    const fleet = Array.from({ length: 130 }, (_, n) => instance(n + 1));
    region(fleet);
    const ids = fleet.slice(0, 120).map((i) => i.InstanceId!);
    const found = await resolve({ instanceIds: ids });

    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 3);
    const calls = filtersOfCalls();
    for (const filters of calls) {
      expect(filters).toHaveLength(2);
      expect(filter(filters, 'instance-state-name')!.Values).toEqual(expect.arrayContaining(['running', 'stopped']));
      expect(filter(filters, 'instance-state-name')!.Values).not.toContain('terminated');
      expect(filter(filters, 'instance-state-name')!.Values).not.toContain('shutting-down');
      expect(filter(filters, 'instance-id')!.Values!.length).toBeLessThanOrEqual(50);
    }
    expect(calls.map((f) => filter(f, 'instance-id')!.Values!.length)).toEqual([50, 50, 20]);
    expect(calls.flatMap((f) => filter(f, 'instance-id')!.Values!).sort()).toEqual([...ids].sort());
    expect(found.map((t) => t.id)).toEqual([...ids].sort());
  });

  it('unknown ids (missing or terminated) are a UsageError listing exactly those, naming --instance-ids; nothing else is asked', async () => {
    region([instance(1), instance(2), instance(3, {}, 'terminated'), instance(4, { Env: 'demo' })]);
    const error = await resolve({ instanceIds: [idOf(1), idOf(9), idOf(2), idOf(3)], tag: ['Env=demo'] }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('UNKNOWN_INSTANCE');
    expect(exitCodeFor(error)).toBe(2);
    // The message must name the flag, and which of its ids are unknown.
    const message = (error as UsageError).message;
    expect(message).toContain('--instance-ids');
    expect(new Set(message.match(/i-[0-9a-f]+/g))).toEqual(new Set([idOf(9), idOf(3)]));
    // The tag lookup is not made once the ids are known to be wrong.
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });

  it('ANDs the tags: one call with a tag:Key filter for each, limited to live instances', async () => {
    region([
      instance(1, { Env: 'demo', Team: 'web' }),
      instance(2, { Env: 'demo', Team: 'db' }),
      instance(3, { Env: 'prod', Team: 'web' }),
      instance(4, { Env: 'demo', Team: 'web' }, 'terminated'),
      instance(5, { Env: 'demo', Team: 'web' }, 'stopped'),
    ]);
    const found = await resolve({ tag: ['Env=demo', 'Team=web'] });

    expect(found.map((t) => t.id)).toEqual([idOf(1), idOf(5)]);
    expect(filtersOfCalls()).toEqual([
      [
        { Name: 'instance-state-name', Values: LIVE },
        { Name: 'tag:Env', Values: ['demo'] },
        { Name: 'tag:Team', Values: ['web'] },
      ],
    ]);
  });

  it('keeps a tag value as given, with = and spaces inside', async () => {
    region([instance(1, { Owner: 'a=b c' })]);
    expect((await resolve({ tag: ['Owner=a=b c'] })).map((t) => t.id)).toEqual([idOf(1)]);
    expect(filter(filtersOfCalls()[0]!, 'tag:Owner')).toEqual({ Name: 'tag:Owner', Values: ['a=b c'] });
  });

  it('returns the ids and the tag matches together, each instance once, sorted by id', async () => {
    region([instance(1, { Env: 'demo' }), instance(2, { Env: 'demo' }), instance(3, { Env: 'prod' }), instance(4)]);
    const found = await resolve({ instanceIds: [idOf(3), idOf(1)], tag: ['Env=demo'] });
    expect(found.map((t) => t.id)).toEqual([idOf(1), idOf(2), idOf(3)]);
  });

  it('follows NextToken to the last page', async () => {
    region(
      Array.from({ length: 7 }, (_, n) => instance(n + 1, { Env: 'demo' })),
      3,
    );
    const found = await resolve({ tag: ['Env=demo'] });

    expect(found).toHaveLength(7);
    expect(tokens).toEqual([undefined, '3', '6']);
    // Every page repeats the filters.
    for (const filters of filtersOfCalls()) expect(filter(filters, 'tag:Env')).toEqual({ Name: 'tag:Env', Values: ['demo'] });
  });

  it('follows NextToken within an id batch too', async () => {
    region([instance(1), instance(2), instance(3)], 1);
    expect((await resolve({ instanceIds: [idOf(1), idOf(2), idOf(3)] })).map((t) => t.id)).toEqual([idOf(1), idOf(2), idOf(3)]);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 3);
  });

  it('describes each target: Name tag, state, platform, current profile, network', async () => {
    region([
      instance(1, { Name: 'web-1', Env: 'demo' }, 'stopped', {
        PlatformDetails: 'Red Hat Enterprise Linux',
        IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/App' },
        VpcId: 'vpc-1',
        SubnetId: 'subnet-1',
      }),
      instance(2, { Env: 'demo' }, 'running', { Platform: 'Windows' }),
    ]);
    // Other fields (addresses, image…) are added for later steps: only these are checked here.
    const [web, win] = await resolve({ tag: ['Env=demo'] });
    expect(web).toMatchObject({
      id: idOf(1),
      name: 'web-1',
      state: 'stopped',
      platform: 'Red Hat Enterprise Linux',
      profileArn: 'arn:aws:iam::123456789012:instance-profile/App',
      vpcId: 'vpc-1',
      subnetId: 'subnet-1',
      tags: { Name: 'web-1', Env: 'demo' },
    });
    expect(win).toMatchObject({ id: idOf(2), state: 'running', platform: 'Windows', tags: { Env: 'demo' } });
    expect(win!.name).toBeUndefined();
    expect(win!.profileArn).toBeUndefined();
  });
});
