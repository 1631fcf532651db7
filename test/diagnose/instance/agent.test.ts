import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../src/diagnose/index.js';
import { agentNotRunning, checkAgent, resolveOs } from '../../../src/diagnose/instance/agent.js';
import { REGION } from '../../helpers/fixtures.js';
import { ctx, diagnoseOne, finding, GENERIC, instance, net, readsOf, useWorld } from '../harness.js';

useWorld();

describe('the agent, in a diagnosis', () => {
  it('RHEL has no agent: the dnf install from the regional bucket, systemctl, and user data', async () => {
    const d = await diagnoseOne(instance({ platform: 'Red Hat Enterprise Linux', imageId: 'ami-whatever' }));
    expect(d.cause).toBe('the SSM Agent is not installed: Red Hat Enterprise Linux AMIs do not include it');
    const rpm = `https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest/linux_amd64/amazon-ssm-agent.rpm`;
    expect(d.fix.slice(0, 3)).toEqual([`sudo dnf install -y ${rpm}`, 'sudo systemctl enable --now amazon-ssm-agent', 'sudo systemctl status amazon-ssm-agent']);
    expect(d.fix).toContain('docs: https://docs.aws.amazon.com/systems-manager/latest/userguide/agent-install-rhel.html');
    expect(d.userData).toMatch(/^#!\/bin\/bash\n/);
    expect(d.userData).toContain(`dnf install -y ${rpm}`);
    expect(finding(d, CHECKS.agent)).toMatchObject({ status: 'error', fix: `sudo dnf install -y ${rpm}` });
    // PlatformDetails named the OS: the AMI was not looked up.
    expect(net.ec2).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('a "Linux/UNIX" instance: the AMI name tells RHEL, and arm64 gets the arm64 package', async () => {
    const d = await diagnoseOne(instance({ imageId: 'ami-rhel9-arm', architecture: 'arm64' }));
    expect(d.cause).toMatch(/SSM Agent is not installed: Red Hat/);
    expect(d.fix[0]).toBe(`sudo dnf install -y https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest/linux_arm64/amazon-ssm-agent.rpm`);
    expect(finding(d, CHECKS.agent)?.detail).toContain('RHEL-9.4.0_HVM');
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
  });

  it('an AMI that names no distribution: a warning with the docs, and the generic cause', async () => {
    const d = await diagnoseOne(instance({ imageId: 'ami-custom' }));
    expect(finding(d, CHECKS.agent)).toMatchObject({ status: 'warning', fix: expect.stringContaining('manually-install-ssm-agent-linux') });
    expect(d.cause).toBe(`${GENERIC} (some checks were inconclusive: see the warnings)`);
    expect(d.userData).toBeUndefined();
  });

  it('Windows falls back to the PowerShell status and log path', async () => {
    const d = await diagnoseOne(instance({ platform: 'Windows', imageId: undefined }));
    expect(d.cause).toBe(GENERIC);
    expect(d.fix[0]).toBe('Get-Service AmazonSSMAgent');
    expect(d.fix[1]).toContain('C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log');
  });
});

describe('resolveOs, checkAgent and agentNotRunning (pure)', () => {
  it('the OS cannot be told: no AMI, the AMI gone, or not readable; each a warning that checkAgent passes on', () => {
    const noAmi = resolveOs(instance({ imageId: undefined }), readsOf(), ctx);
    expect(noAmi).toEqual({
      unknown: { check: CHECKS.agent, status: 'warning', detail: '"Linux/UNIX" does not tell the distribution, and the AMI is unknown' },
    });
    expect(checkAgent(instance(), noAmi, ctx)).toEqual({ findings: [(noAmi as { unknown: unknown }).unknown] });
    expect(resolveOs(instance({ imageId: 'ami-gone' }), readsOf(), ctx)).toEqual({
      unknown: { check: CHECKS.agent, status: 'warning', detail: 'AMI ami-gone is no longer available: the distribution is unknown' },
    });
    expect(resolveOs(instance(), readsOf({ images: { denied: 'ec2:DescribeImages' } }), ctx)).toEqual({
      unknown: { check: CHECKS.agent, status: 'warning', detail: 'could not read AMI ami-al2023 (missing ec2:DescribeImages)' },
    });
  });

  it('an AMI description tells the OS when its name does not', () => {
    const images = new Map([['ami-x', { name: 'golden-2024', description: 'Ubuntu 22.04 base' }]]);
    expect(resolveOs(instance({ imageId: 'ami-x' }), readsOf({ images }), ctx)).toEqual({ platform: 'Ubuntu 22.04 base', from: 'AMI ami-x "golden-2024"' });
  });

  it('restart commands per platform, and the note when some checks were inconclusive', () => {
    expect(agentNotRunning('Ubuntu', []).fix).toEqual([
      'sudo snap services amazon-ssm-agent',
      'read /var/log/amazon/ssm/amazon-ssm-agent.log (and errors.log beside it) on the instance',
      'sudo snap restart amazon-ssm-agent',
    ]);
    expect(agentNotRunning('macOS', []).fix[2]).toBe('sudo launchctl kickstart -k system/com.amazon.aws.ssm');
    expect(agentNotRunning('Windows', []).fix[2]).toBe('Restart-Service AmazonSSMAgent');
    expect(agentNotRunning('Linux/UNIX', []).text).toBe(GENERIC);
    expect(agentNotRunning('Linux/UNIX', [{ check: 'route', status: 'warning', detail: 'x' }]).text).toBe(
      `${GENERIC} (some checks were inconclusive: see the warnings)`,
    );
  });
});
