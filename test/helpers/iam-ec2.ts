import { afterEach, beforeEach } from 'vitest';
import { type FakeEc2, fakeEc2 } from './fake-ec2.js';
import { type FakeIam, fakeIam } from './fake-iam.js';

/**
 * For each test of the calling suite: the IAM fake, and the EC2 fake (instances and their profile
 * associations) that knows the IAM fake's profiles, made after it (its own EC2 stub gives way to
 * this one) and restored before it. `use` receives both.
 */
export function iamAndEc2Each(use: (iam: FakeIam, ec2: FakeEc2) => void): void {
  let iam: FakeIam;
  let ec2: FakeEc2;
  beforeEach(() => {
    iam = fakeIam();
    ec2 = fakeEc2({ profiles: (name) => iam.profiles.get(name)?.arn });
    use(iam, ec2);
  });
  afterEach(() => {
    ec2.restore();
    iam.restore();
  });
}
