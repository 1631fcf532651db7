import type { AwsClientStub } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { mockIdentity } from './aws.js';
import { type FakeFleetOptions, fakeFleet } from './fake-fleet.js';
import { type FakeIamOptions, fakeIam } from './fake-iam.js';
import { type FakeKmsOptions, fakeKms } from './fake-kms.js';
import { fakeLogs } from './fake-logs.js';
import { type FakeS3Options, fakeS3 } from './fake-s3.js';
import { type FakeSsmOptions, fakeSsm } from './fake-ssm.js';
import { REGION } from './fixtures.js';

export interface FakeAccountOptions {
  /** The region of the run (default REGION): key, log group and service-setting ARNs, the logs principal. */
  readonly region?: string;
  readonly kms?: FakeKmsOptions;
  readonly s3?: FakeS3Options;
  readonly iam?: Omit<FakeIamOptions, 'ec2'>;
  /** Its `ec2` options are laid over the wiring below (the profiles of the fake IAM, a lag of one call). */
  readonly fleet?: FakeFleetOptions;
  readonly ssm?: Omit<FakeSsmOptions, 'mock'>;
}

/** One call to a fake, in the order they were made: `KMS.CreateKey`, and the error name it answered with. */
export interface FakeCall {
  readonly call: string;
  readonly error?: string;
}

/**
 * Every stateful fake of the unit tests at once, wired as one AWS account, with the strict
 * options on unless told otherwise: KMS eventual consistency, S3 propagation (one NoSuchBucket
 * after CreateBucket), IAM propagation (one NoSuchEntity after a create), EC2 not seeing a
 * just-created instance profile for one call, and a new preferences version `Creating` for one
 * DescribeDocument. STS answers as IDENTITY.
 *
 * The fakes share what AWS shares: CloudWatch Logs reads the fake KMS's key policies; the SSM
 * stub of fake-fleet also answers the documents calls of fake-ssm (one `mockClient(SSMClient)`
 * replaces another); the one EC2 world (fake-fleet's fake-ec2) answers every EC2 call, its
 * AssociateIamInstanceProfile knowing the fake IAM's instance profiles (fake-iam's own EC2 side
 * is off). `calls()` and `writes()` cover every fake; `restore()` restores them all.
 */
export function fakeAccount(opts: FakeAccountOptions = {}) {
  const region = opts.region ?? REGION;
  const sts = mockIdentity();
  const kms = fakeKms({ consistency: true, region, ...opts.kms });
  const logs = fakeLogs(kms, { region });
  const s3 = fakeS3({ propagationLag: 1, region, ...opts.s3 });
  const iam = fakeIam({ propagation: true, ...opts.iam, ec2: false });
  const fleet = fakeFleet({
    region,
    ...opts.fleet,
    ec2: {
      profiles: (name) => iam.profiles.get(name)?.arn,
      profileLag: { calls: 1, fresh: (name) => iam.profiles.get(name)?.created === true },
      ...opts.fleet?.ec2,
    },
  });
  const ssm = fakeSsm({ settling: true, ...opts.ssm, mock: fleet.ssm });
  const services: [string, AwsClientStub<any>][] = [
    ['STS', sts],
    ['KMS', kms.mock],
    ['CloudWatchLogs', logs.mock],
    ['S3', s3.mock],
    ['IAM', iam.iam],
    ['SSM', fleet.ssm],
    ['EC2', fleet.ec2],
  ];
  const all = () => services.flatMap(([service, stub]) => stub.calls().map((c) => ({ service, c }))).sort((a, b) => (a.c.calledBefore(b.c) ? -1 : 1));
  const calls = () => all().map(({ service, c }) => `${service}.${(c.args[0] as object).constructor.name.replace(/Command$/, '')}`);

  return {
    region,
    sts,
    kms,
    logs,
    s3,
    iam,
    fleet,
    /** The EC2 world: instances, VPCs, associations. */
    ec2: fleet.world,
    ssm,
    /** Every call so far, in order, as `Service.Operation`. */
    calls,
    /** The write calls so far (src/aws/calls.ts isWriteCall), in order. */
    writes: () => calls().filter((c) => isWriteCall(c.slice(c.indexOf('.') + 1))),
    /** Every call so far with the error it was answered with, if any: the strict rules that fired. */
    async answers(): Promise<FakeCall[]> {
      const made = all();
      const settled = await Promise.allSettled(made.map(({ c }) => c.returnValue as Promise<unknown>));
      return made.map(({ service, c }, n) => {
        const call = `${service}.${(c.args[0] as object).constructor.name.replace(/Command$/, '')}`;
        const outcome = settled[n]!;
        return outcome.status === 'rejected' ? { call, error: (outcome.reason as Error).name } : { call };
      });
    },
    restore() {
      fleet.restore();
      iam.restore();
      s3.mock.restore();
      logs.mock.restore();
      kms.mock.restore();
      sts.restore();
    },
  };
}

export type FakeAccount = ReturnType<typeof fakeAccount>;
