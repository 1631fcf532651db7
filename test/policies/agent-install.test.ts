import { describe, expect, it } from 'vitest';
import {
  type AgentPlatform,
  agentInstallCommands,
  agentLogPath,
  agentPlatform,
  agentPreinstalled,
  agentStatusCommand,
} from '../../src/policies/agent-install.js';

const REGION = 'eu-west-1';
const BUCKET = `https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest`;
const DOCS = 'https://docs.aws.amazon.com/systems-manager/latest/userguide';

describe('agentPlatform: EC2 PlatformDetails, AMI names and descriptions', () => {
  it.each<[string, AgentPlatform]>([
    ['Red Hat Enterprise Linux', 'rhel'],
    ['Red Hat Enterprise Linux with SQL Server Standard', 'rhel'],
    ['Red Hat BYOL Linux', 'rhel'],
    ['RHEL-9.4.0_HVM-20240605-x86_64-82-Hourly2-GP3', 'rhel'],
    ['rhel-8.10', 'rhel'],
    ['Ubuntu Pro', 'ubuntu'],
    ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240801', 'ubuntu'],
    ['debian-12-amd64-20240717-1811', 'debian'],
    ['SUSE Linux', 'suse'],
    ['suse-sles-15-sp6-v20240808-hvm-ssd-x86_64', 'suse'],
    ['SLES 15 SP6', 'suse'],
    ['al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', 'amazon-linux'],
    ['amzn2-ami-kernel-5.10-hvm-2.0.20240806.0-x86_64-gp2', 'amazon-linux'],
    ['Amazon Linux 2 AMI 2.0.20240806.0 x86_64 HVM gp2', 'amazon-linux'],
    ['Windows', 'windows'],
    ['Windows with SQL Server Enterprise', 'windows'],
    ['Windows_Server-2022-English-Full-Base-2024.08.14', 'windows'],
    ['amzn-ec2-macos-14.6-20240812-232025', 'macos'],
    ['macOS Sonoma 14.6', 'macos'],
    ['CentOS Stream 9 x86_64 20240506', 'centos'],
    ['Rocky-9-EC2-Base-9.4-20240523.0.x86_64', 'rocky'],
    ['OL9.4-x86_64-HVM-2024-06-06', 'oracle'],
    ['Oracle Linux 8 update 10', 'oracle'],
    ['Linux/UNIX', 'linux'],
    ['Fedora-Cloud-Base-40-1.14.x86_64-hvm-us-east-1-gp3-0', 'linux'],
    ['', 'linux'],
  ])('%s → %s', (text, expected) => {
    expect(agentPlatform(text)).toBe(expected);
  });
});

describe('agentPreinstalled', () => {
  it.each([
    ['Amazon Linux 2', true],
    ['al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', true],
    ['amzn2-ami-kernel-5.10-hvm', true],
    ['Ubuntu Pro', true],
    ['SUSE Linux', true],
    ['Windows', true],
    ['amzn-ec2-macos-14.6', true],
    ['Red Hat Enterprise Linux', false],
    ['debian-12-amd64', false],
    ['CentOS Stream 9', false],
    ['Rocky-9-EC2-Base', false],
    ['Oracle Linux 9', false],
    ['Linux/UNIX', false],
  ])('%s → %s', (platform, expected) => {
    expect(agentPreinstalled(platform)).toBe(expected);
  });
});

describe('agentInstallCommands', () => {
  it('RHEL 8/9 (runbook step 1): dnf install of the regional package, enable, status', () => {
    const out = agentInstallCommands('Red Hat Enterprise Linux', REGION, 'x86_64');
    expect(out.commands).toEqual([
      `sudo dnf install -y ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`,
      'sudo systemctl enable --now amazon-ssm-agent',
      'sudo systemctl status amazon-ssm-agent',
    ]);
    expect(out.userData).toBe(
      [
        '#!/bin/bash',
        '# ssm-setup: install and start the SSM Agent (Red Hat Enterprise Linux)',
        `dnf install -y ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`,
        'systemctl enable --now amazon-ssm-agent',
        '',
      ].join('\n'),
    );
    expect(out.docs).toBe(`${DOCS}/agent-install-rhel.html`);
  });

  it('arm64 (Graviton) gets the linux_arm64 package; no architecture means amd64', () => {
    expect(agentInstallCommands('RHEL-9.4.0_HVM', REGION, 'arm64').commands[0]).toBe(`sudo dnf install -y ${BUCKET}/linux_arm64/amazon-ssm-agent.rpm`);
    expect(agentInstallCommands('RHEL-9.4.0_HVM', REGION).commands[0]).toContain('/linux_amd64/');
    expect(agentInstallCommands('debian-12', REGION, 'arm64').commands[0]).toContain('/debian_arm64/amazon-ssm-agent.deb');
  });

  it('uses the region it is given, in the bucket name and the host (China included)', () => {
    expect(agentInstallCommands('Red Hat Enterprise Linux', 'ap-northeast-1').commands[0]).toBe(
      'sudo dnf install -y https://s3.ap-northeast-1.amazonaws.com/amazon-ssm-ap-northeast-1/latest/linux_amd64/amazon-ssm-agent.rpm',
    );
    expect(agentInstallCommands('Red Hat Enterprise Linux', 'cn-north-1').commands[0]).toContain(
      'https://s3.cn-north-1.amazonaws.com.cn/amazon-ssm-cn-north-1/',
    );
  });

  it('Ubuntu: the snap', () => {
    const out = agentInstallCommands('Ubuntu Pro', REGION);
    expect(out.commands).toEqual(['sudo snap install amazon-ssm-agent --classic', 'sudo snap start amazon-ssm-agent', 'sudo snap services amazon-ssm-agent']);
    expect(out.userData).toContain('\nsnap install amazon-ssm-agent --classic\n');
    expect(out.docs).toBe(`${DOCS}/agent-install-ubuntu.html`);
  });

  it('Debian: the regional .deb with dpkg', () => {
    const out = agentInstallCommands('debian-12-amd64-20240717', REGION);
    expect(out.commands).toEqual([
      `wget -O /tmp/amazon-ssm-agent.deb ${BUCKET}/debian_amd64/amazon-ssm-agent.deb`,
      'sudo dpkg -i /tmp/amazon-ssm-agent.deb',
      'sudo systemctl enable --now amazon-ssm-agent',
      'sudo systemctl status amazon-ssm-agent',
    ]);
    expect(out.docs).toBe(`${DOCS}/agent-install-deb.html`);
  });

  it('SUSE: the regional rpm with rpm --install', () => {
    const out = agentInstallCommands('SUSE Linux', REGION);
    expect(out.commands.slice(0, 2)).toEqual([
      `wget -O /tmp/amazon-ssm-agent.rpm ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`,
      'sudo rpm --install /tmp/amazon-ssm-agent.rpm',
    ]);
    expect(out.commands).toContain('sudo systemctl enable --now amazon-ssm-agent');
    expect(out.docs).toBe(`${DOCS}/agent-install-sles.html`);
  });

  it('Amazon Linux ships it: enable and start, reinstalling only if it was removed', () => {
    const out = agentInstallCommands('Amazon Linux 2023', REGION);
    expect(out.commands).toContain('sudo systemctl enable --now amazon-ssm-agent');
    expect(out.commands[0]).toBe(`rpm -q amazon-ssm-agent || sudo yum install -y ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`);
    expect(out.docs).toBe(`${DOCS}/agent-install-al2.html`);
  });

  it.each([
    ['CentOS Stream 9', 'sudo yum install -y', 'agent-install-centos.html'],
    ['Rocky-9-EC2-Base', 'sudo dnf install -y', 'agent-install-rocky.html'],
    ['Oracle Linux 9', 'sudo yum install -y', 'agent-install-oracle.html'],
  ])('%s: the regional rpm', (platform, installer, page) => {
    const out = agentInstallCommands(platform, REGION);
    expect(out.commands[0]).toBe(`${installer} ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`);
    expect(out.docs).toBe(`${DOCS}/${page}`);
  });

  it('Windows: the PowerShell download and silent install, as <powershell> user data', () => {
    const out = agentInstallCommands('Windows with SQL Server Standard', REGION);
    const url = `https://amazon-ssm-${REGION}.s3.${REGION}.amazonaws.com/latest/windows_amd64/AmazonSSMAgentSetup.exe`;
    expect(out.commands).toEqual([
      "[System.Net.ServicePointManager]::SecurityProtocol = 'TLS12'",
      "$progressPreference = 'silentlyContinue'",
      `Invoke-WebRequest ${url} -OutFile $env:TEMP\\SSMAgent_latest.exe`,
      'Start-Process -FilePath $env:TEMP\\SSMAgent_latest.exe -ArgumentList "/S" -Wait',
      'Remove-Item -Force $env:TEMP\\SSMAgent_latest.exe',
      'Restart-Service AmazonSSMAgent',
      'Get-Service AmazonSSMAgent',
    ]);
    expect(out.userData.startsWith('<powershell>\n')).toBe(true);
    expect(out.userData.trimEnd().endsWith('</powershell>')).toBe(true);
    expect(out.userData).toContain(`Invoke-WebRequest ${url}`);
    expect(out.userData).not.toContain('#!/bin/bash');
    expect(out.userData).not.toContain('Get-Service');
    expect(out.docs).toBe(`${DOCS}/manually-install-ssm-agent-windows.html`);
  });

  it('macOS: the pkg for the CPU, loaded with launchctl', () => {
    const out = agentInstallCommands('amzn-ec2-macos-14.6', REGION, 'arm64_mac');
    expect(out.commands[0]).toBe(`curl -fsSL -o /tmp/amazon-ssm-agent.pkg ${BUCKET}/darwin_arm64/amazon-ssm-agent.pkg`);
    expect(out.commands).toContain('sudo installer -pkg /tmp/amazon-ssm-agent.pkg -target /');
    expect(out.commands).toContain('sudo launchctl load -w /Library/LaunchDaemons/com.amazon.aws.ssm.plist');
    expect(agentInstallCommands('macOS', REGION, 'x86_64_mac').commands[0]).toContain('/darwin_amd64/');
  });

  it('an unknown Linux: the rpm or the deb, whichever its package manager takes', () => {
    const out = agentInstallCommands('Linux/UNIX', REGION);
    expect(out.commands[0]).toContain(`sudo dnf install -y ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`);
    expect(out.commands[0]).toContain(`sudo yum install -y ${BUCKET}/linux_amd64/amazon-ssm-agent.rpm`);
    expect(out.commands[0]).toContain('sudo dpkg -i /tmp/amazon-ssm-agent.deb');
    expect(out.commands).toContain('sudo systemctl enable --now amazon-ssm-agent');
    expect(out.docs).toBe(`${DOCS}/manually-install-ssm-agent-linux.html`);
  });

  it.each(['Red Hat Enterprise Linux', 'Ubuntu', 'debian-12', 'SUSE Linux', 'Amazon Linux 2', 'CentOS', 'Rocky', 'Oracle Linux', 'macOS', 'Linux/UNIX'])(
    '%s: the user data is a bash script that runs as root (no sudo) and starts the agent',
    (platform) => {
      const { userData, commands } = agentInstallCommands(platform, REGION);
      expect(userData.startsWith('#!/bin/bash\n')).toBe(true);
      expect(userData).not.toMatch(/\bsudo\b/);
      // Each install and start command is there, without sudo; the status check is not.
      const last = commands.at(-1)!;
      for (const c of commands.slice(0, -1)) expect(userData).toContain(c.replace(/\bsudo /g, ''));
      expect(userData).not.toContain(last.replace(/\bsudo /g, ''));
    },
  );
});

describe('agentStatusCommand and agentLogPath', () => {
  it.each([
    ['Red Hat Enterprise Linux', 'sudo systemctl status amazon-ssm-agent', '/var/log/amazon/ssm/amazon-ssm-agent.log'],
    ['Ubuntu', 'sudo snap services amazon-ssm-agent', '/var/log/amazon/ssm/amazon-ssm-agent.log'],
    ['Windows', 'Get-Service AmazonSSMAgent', 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log'],
    ['Linux/UNIX', 'sudo systemctl status amazon-ssm-agent', '/var/log/amazon/ssm/amazon-ssm-agent.log'],
  ])('%s', (platform, status, log) => {
    expect(agentStatusCommand(platform)).toBe(status);
    expect(agentLogPath(platform)).toBe(log);
  });
});
