import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { mockIdentity } from '../helpers/aws.js';
import { captureOutput } from '../helpers/capture.js';

// A region the SDK's partition data does not list is bad input before any AWS call (exit 2, with
// the nearest real region); --allow-unknown-region takes a region newer than this ssm-setup.
let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

describe('the region check', () => {
  const { out } = captureOutput();
  const json = () => JSON.parse(out()) as RunReport;

  it.each([
    [['--region', 'eu-wset-1'], '--region: "eu-wset-1" is not an AWS region this ssm-setup knows (did you mean "eu-west-1"?)'],
    [['--regions', 'us-east-1,us-esat-2'], '--regions: "us-esat-2" is not an AWS region this ssm-setup knows (did you mean "us-east-2"?)'],
  ])('%j: exit 2, naming it and the nearest region, no AWS call', async (args, message) => {
    expect(await main(['node', 'ssm-setup', 'plan', ...args, '--json'])).toBe(2);
    expect(json().error).toMatchObject({ code: 'INVALID_SETTINGS', message });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('--allow-unknown-region lets a region newer than the SDK through to AWS', async () => {
    await main(['node', 'ssm-setup', 'plan', '--region', 'eu-west-9', '--allow-unknown-region', '--json']);
    expect(sts.commandCalls(GetCallerIdentityCommand).length).toBeGreaterThan(0);
  });
});
