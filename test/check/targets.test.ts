import { GetInstanceProfileCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetConnectionStatusCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { agentFinding, instanceNeeds, managedFinding, profileFinding, stateFinding } from '../../src/check/targets.js';
import { IDENTITY, REGION } from '../helpers/fixtures.js';
import {
  A,
  addEndpoints,
  addGroups,
  B,
  BUCKET,
  check,
  createEndpoint,
  type ExpectedError,
  ec2Instance,
  endpointGroup,
  errors,
  expectErrors,
  GROUP_ARN,
  iam,
  KEY_ARN,
  PREFIX,
  problems,
  profileArn,
  RECENT_AGENT,
  refuse,
  roleArn,
  row,
  ssm,
  targetsOf,
  useWorld,
  vpcEndpoint,
  type World,
  world,
} from './harness.js';

// Per target: each single broken link turns exactly that target's row to error, with the fix.
useWorld();

interface RowCase {
  readonly name: string;
  readonly breakIt: (w: World) => void;
  /** Every error of A's row, in order; B's row stays without error, and so do the sections. */
  readonly errors: readonly ExpectedError[];
}

const ROW_CASES: readonly RowCase[] = [
  {
    name: 'its role lacks kms:Decrypt on the session key',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt')),
    errors: [{ check: 'role-rights', fix: `grant kms:Decrypt on ${KEY_ARN}`, detail: `kms:Decrypt on the session key: not allowed on ${KEY_ARN}` }],
  },
  {
    name: 'its role is explicitly denied s3:PutObject under the prefix',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 's3:PutObject', undefined, 'explicitDeny')),
    errors: [
      {
        check: 'role-rights',
        fix: `grant s3:PutObject on arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`,
        detail: `s3:PutObject on s3://${BUCKET}/${PREFIX}: explicitly denied on arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`,
      },
    ],
  },
  {
    name: 'its role may not write log streams',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 'logs:PutLogEvents')),
    errors: [{ check: 'role-rights', fix: `grant logs:CreateLogStream, logs:PutLogEvents on ${GROUP_ARN}:log-stream:ssm-setup-check` }],
  },
  {
    name: 'its subnet is private (no NAT route) and the VPC has no endpoints',
    breakIt: (w) => w.net.setRoutes('rtb-1', []),
    errors: [
      {
        check: 'route',
        fix: /^aws ec2 create-route --route-table-id rtb-1 --destination-cidr-block 0\.0\.0\.0\/0 --nat-gateway-id <nat-gateway-id> --region eu-west-1$/,
        detail: /private subnet/,
      },
      { check: 'endpoint:ssm', fix: createEndpoint('ssm'), detail: 'no interface endpoint' },
      { check: 'endpoint:ssmmessages', fix: createEndpoint('ssmmessages') },
      { check: 'endpoint:kms', fix: createEndpoint('kms'), detail: /KMS session encryption needs it/ },
      { check: 'endpoint:logs', fix: createEndpoint('logs'), detail: /CloudWatch Logs session logging needs it/ },
      {
        check: 'endpoint:s3',
        fix: /^aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Gateway --service-name com\.amazonaws\.eu-west-1\.s3 --route-table-ids rtb-1 /,
        detail: /S3 session logging needs it/,
      },
    ],
  },
  {
    name: 'its subnet is private and the ssm endpoint has private DNS off',
    breakIt: (w) => {
      w.net.setRoutes('rtb-1', []);
      addEndpoints(
        w,
        ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s, s === 'ssm' ? { PrivateDnsEnabled: false } : {})),
      );
      addGroups(w, [endpointGroup('10.1.0.0/16')]);
    },
    errors: [
      { check: 'route', fix: /^aws ec2 create-route --route-table-id rtb-1 /, detail: /private subnet/ },
      {
        check: 'endpoint:ssm',
        fix: 'aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-a-ssm --private-dns-enabled --region eu-west-1',
        detail: 'vpce-a-ssm has private DNS off',
      },
    ],
  },
  {
    name: 'the endpoints of its private subnet exist, but their security group does not admit 443 from it',
    breakIt: (w) => {
      w.net.setRoutes('rtb-1', []);
      addEndpoints(
        w,
        ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s)),
      );
      // The instance is 10.1.1.10: the group admits another range.
      addGroups(w, [endpointGroup('10.99.0.0/16')]);
    },
    errors: [
      {
        check: 'endpoint-sg',
        fix: /^aws ec2 authorize-security-group-ingress --group-id sg-vpce-a --protocol tcp --port 443 --cidr <CIDR of vpc-a or subnet-1> --region eu-west-1$/,
        detail: /^no security group admits TCP 443 from the instance \(10\.1\.1\.10\): vpce-a-ssm \(ssm\) with sg-vpce-a/,
      },
    ],
  },
  {
    name: 'its agent is too old for Run As (runAsEnabled, agent 2.3.500.0)',
    breakIt: (w) => {
      w.prefs!.inputs = { ...w.prefs!.inputs, runAsEnabled: true, runAsDefaultUser: 'ec2-user' };
      w.inventory[A] = { PingStatus: 'Online', AgentVersion: '2.3.500.0' };
    },
    errors: [{ check: 'agent-version', fix: 'ssm-setup run agents', detail: /^agent 2\.3\.500\.0 is too old for .*Run As ≥ 2\.3\.672\.0/ }],
  },
  {
    name: 'its agent is too old for CloudWatch streaming (3.0.300.0)',
    breakIt: (w) => (w.inventory[A] = { PingStatus: 'Online', AgentVersion: '3.0.300.0' }),
    errors: [{ check: 'agent-version', fix: 'ssm-setup run agents', detail: 'agent 3.0.300.0 is too old for CloudWatch streaming ≥ 3.0.356.0' }],
  },
  {
    name: 'it is stopped (and so not listed as managed)',
    breakIt: (w) => {
      w.net.addInstance(ec2Instance(A, 1, { State: { Name: 'stopped' } }));
      delete w.inventory[A];
    },
    errors: [
      { check: 'state', fix: `aws ec2 start-instances --instance-ids ${A} --region ${REGION}`, detail: 'stopped' },
      {
        check: 'managed',
        fix: `aws ec2 start-instances --instance-ids ${A} --region ${REGION}`,
        detail: /^not managed by Systems Manager: the instance is stopped/,
      },
    ],
  },
  {
    name: 'it has no instance profile',
    breakIt: (w) => w.net.addInstance(ec2Instance(A, 1, { IamInstanceProfile: undefined })),
    errors: [{ check: 'instance-profile', fix: `ssm-setup run instance-role --instance-ids ${A}`, detail: 'no instance profile' }],
  },
  {
    name: 'its instance profile has no role',
    breakIt: (w) => (w.profiles['app-1-profile'] = undefined),
    errors: [
      {
        check: 'role-rights',
        fix: 'aws iam add-role-to-instance-profile --instance-profile-name app-1-profile --role-name <role>',
        detail: 'instance profile app-1-profile has no role',
      },
    ],
  },
  {
    name: 'it is not managed by Systems Manager',
    breakIt: (w) => delete w.inventory[A],
    errors: [
      {
        check: 'managed',
        fix: /sudo systemctl restart amazon-ssm-agent/,
        detail: /^not managed by Systems Manager: the agent is not running or cannot register/,
      },
    ],
  },
  {
    name: 'it is managed but ConnectionLost',
    breakIt: (w) => (w.inventory[A] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT }),
    errors: [{ check: 'managed', fix: /amazon-ssm-agent/, detail: /^managed but ConnectionLost/ }],
  },
  {
    name: 'GetConnectionStatus says notconnected',
    breakIt: (w) => (w.connection[A] = 'notconnected'),
    errors: [{ check: 'connection', fix: /\/var\/log\/amazon\/ssm\/amazon-ssm-agent\.log/, detail: 'GetConnectionStatus: notconnected' }],
  },
];

describe('each single broken link turns exactly that target’s row to error, with the fix', () => {
  it.each(ROW_CASES)('$name', async ({ breakIt, errors: expected }) => {
    breakIt(world);
    const r = await check();
    const a = row(r, A);
    expect(a.ready).toBe(false);
    expectErrors(a.findings, expected);
    const b = row(r, B);
    expect(errors(b.findings)).toEqual([]);
    expect(b.ready).toBe(true);
    expect(errors(r.account)).toEqual([]);
    expect(errors(r.operator)).toEqual([]);
    expect(r.connect).toBe(`aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('a private subnet whose endpoints are usable and admit the instance is ready: the route is ok', async () => {
    world.net.setRoutes('rtb-1', []);
    addEndpoints(
      world,
      ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s)),
    );
    addGroups(world, [endpointGroup('10.1.0.0/16')]);
    const r = await check();
    expect(row(r, A).ready).toBe(true);
    expect(problems(row(r, A).findings)).toEqual([]);
    expect(row(r, A).findings.find((f) => f.check === 'route')!.detail).toMatch(/the VPC endpoints are used$/);
    expect(row(r, A).findings.find((f) => f.check === 'endpoint-sg')).toMatchObject({ status: 'ok' });
  });

  it('an agent at exactly 2.3.672.0 is recent enough for Run As', async () => {
    world.prefs!.inputs = { ...world.prefs!.inputs, runAsEnabled: true, runAsDefaultUser: 'ec2-user', cloudWatchStreamingEnabled: false };
    world.inventory[A] = { PingStatus: 'Online', AgentVersion: '2.3.672.0' };
    const r = await check();
    expect(row(r, A).findings.find((f) => f.check === 'agent-version')).toMatchObject({
      status: 'ok',
      detail: 'agent 2.3.672.0 supports KMS encryption, SSH/port forwarding, Run As',
    });
    expect(row(r, A).ready).toBe(true);
  });

  it.each([
    ['the agent does not run', (w: World) => delete w.inventory[A]],
    [
      'no instance profile',
      (w: World) => {
        w.net.addInstance(ec2Instance(A, 1, { IamInstanceProfile: undefined }));
        delete w.inventory[A];
      },
    ],
  ])('the fix of an unmanaged instance (%s) is one line to run, not prose chained with &&', async (_name, breakIt) => {
    breakIt(world);
    const r = await check();
    const fix = row(r, A).findings.find((f) => f.check === 'managed')!.fix!;
    // Pasted into a shell, every part joined by && must be a command.
    for (const part of fix.split(' && ')) expect(part, fix).toMatch(/^(sudo|aws|ssm-setup) /);
  });

  it('does not ask GetConnectionStatus about an instance that is not Online', async () => {
    world.inventory[A] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT };
    await check();
    expect(ssm).not.toHaveReceivedCommandWith(GetConnectionStatusCommand, { Target: A });
    expect(ssm).toHaveReceivedCommandWith(GetConnectionStatusCommand, { Target: B });
  });

  it('two instances sharing one profile share its role’s verdict, simulated once', async () => {
    world.net.addInstance(ec2Instance(B, 2, { IamInstanceProfile: { Arn: profileArn('app-1-profile') } }));
    world.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt');
    const r = await check();
    for (const id of [A, B]) expect(errors(row(r, id).findings).map((f) => f.fix)).toEqual([`grant kms:Decrypt on ${KEY_ARN}`]);
    expect(iam.commandCalls(GetInstanceProfileCommand).filter((c) => c.args[0].input.InstanceProfileName === 'app-1-profile').length).toBeGreaterThan(0);
    const sims = iam.commandCalls(SimulatePrincipalPolicyCommand).filter((c) => c.args[0].input.PolicySourceArn === roleArn('app-1-role'));
    expect(sims).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the per-target findings (pure)', () => {
  const t = targetsOf;

  it('state and profile: ok, or the error with its fix', () => {
    const [a] = t();
    expect(stateFinding(a!, REGION)).toEqual({ check: 'state', status: 'ok', detail: 'running' });
    expect(stateFinding({ ...a!, state: 'stopping' }, REGION)).toEqual({
      check: 'state',
      status: 'error',
      detail: 'stopping',
      fix: `aws ec2 start-instances --instance-ids ${A} --region ${REGION}`,
    });
    expect(profileFinding(a!)).toEqual({ check: 'instance-profile', status: 'ok', detail: 'app-1-profile' });
    expect(profileFinding({ ...a!, profileArn: undefined })).toEqual({
      check: 'instance-profile',
      status: 'error',
      detail: 'no instance profile',
      fix: `ssm-setup run instance-role --instance-ids ${A}`,
    });
  });

  it('managed: the diagnosis commands joined into one line, else its first step, else the restart', () => {
    const d = {
      instanceId: A,
      cause: 'the agent is not running',
      fix: ['sudo systemctl status amazon-ssm-agent', 'read the log', 'sudo systemctl restart amazon-ssm-agent'],
      findings: [],
    };
    expect(managedFinding(undefined, d)).toEqual({
      check: 'managed',
      status: 'error',
      detail: 'not managed by Systems Manager: the agent is not running',
      fix: 'sudo systemctl status amazon-ssm-agent && sudo systemctl restart amazon-ssm-agent',
    });
    expect(managedFinding(undefined, { ...d, fix: ['launch it with the user data below'] }).fix).toBe('launch it with the user data below');
    expect(managedFinding({ pingStatus: 'Inactive' } as never, undefined)).toEqual({
      check: 'managed',
      status: 'error',
      detail: 'managed but Inactive',
      fix: 'sudo systemctl restart amazon-ssm-agent',
    });
    expect(managedFinding({ pingStatus: 'Online' } as never, undefined)).toEqual({ check: 'managed', status: 'ok', detail: 'managed, Online, agent ?' });
  });

  it('agent version: nothing without a version; checked against the features the preferences use', () => {
    expect(agentFinding({ pingStatus: 'ConnectionLost' } as never, undefined)).toEqual([]);
    expect(agentFinding({ pingStatus: 'Online', agentVersion: '3.0.300.0' } as never, undefined)[0]).toMatchObject({ check: 'agent-version', status: 'ok' });
  });

  it('what the instance role needs: the session channels always, then the key, bucket and log group of the preferences', () => {
    const ctx = { identity: IDENTITY, region: REGION };
    expect(instanceNeeds(ctx, undefined).map((n) => n.what)).toEqual(['session channels (ssmmessages, ssm:UpdateInstanceInformation)']);
    expect(instanceNeeds(ctx, { inputs: {}, prefix: 'p/', bucket: BUCKET }).map((n) => n.resources)).toEqual([
      ['*'],
      [`arn:aws:s3:::${BUCKET}/p/ssm-setup-check.log`],
      [`arn:aws:s3:::${BUCKET}`],
    ]);
  });
});
