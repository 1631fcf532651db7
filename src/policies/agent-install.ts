/**
 * How to install and start the SSM Agent on an instance that has none (runbook step 1), per
 * platform: the commands to run on the instance, a user-data script that does the same at
 * launch, and AWS's page for that platform. Pure: no I/O.
 *
 * Packages come from the regional download bucket (`amazon-ssm-<region>`), which AWS recommends
 * for scripts and which private subnets reach through the S3 gateway endpoint; the global
 * `s3.amazonaws.com/ec2-downloads-windows/SSMAgent/…` URLs serve the same files.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/agent-install-rhel.html
 */

/** The platforms AWS documents separately; `linux` is any other or unrecognised Linux. */
export type AgentPlatform = 'amazon-linux' | 'rhel' | 'centos' | 'rocky' | 'oracle' | 'suse' | 'ubuntu' | 'debian' | 'windows' | 'macos' | 'linux';

export interface AgentInstall {
  /** To run on the instance, in order (over SSH, EC2 Instance Connect or the serial console). */
  readonly commands: string[];
  /** A user-data script (`#!/bin/bash`, or `<powershell>` on Windows) that installs and starts the agent at launch. */
  readonly userData: string;
  /** AWS's install page for the platform. */
  readonly docs: string;
}

const DOCS = 'https://docs.aws.amazon.com/systems-manager/latest/userguide';

/**
 * Order matters: macOS AMI names start with `amzn-ec2-macos`, and "Red Hat Enterprise Linux" or
 * "SUSE Linux" must win over the generic Linux answer.
 */
const PATTERNS: readonly (readonly [AgentPlatform, RegExp])[] = [
  ['windows', /windows/i],
  ['macos', /mac\s?os|darwin/i],
  ['rhel', /red\s?hat|\brhel/i],
  ['centos', /centos/i],
  ['rocky', /rocky/i],
  ['oracle', /oracle|\bol\d/i],
  ['suse', /suse|\bsles/i],
  ['ubuntu', /ubuntu/i],
  ['debian', /debian/i],
  ['amazon-linux', /amazon\s?linux|\bamzn|\bal2(023)?\b/i],
];

/**
 * The platform behind an EC2 `PlatformDetails` ("Red Hat Enterprise Linux", "Windows with SQL
 * Server Standard", "Linux/UNIX"…) or an AMI name or description ("RHEL-9.4.0_HVM-…",
 * "al2023-ami-2023.5…", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-…").
 * "Linux/UNIX", which EC2 gives Amazon Linux, Ubuntu and Debian alike, is `linux`.
 */
export function agentPlatform(platform: string): AgentPlatform {
  return PATTERNS.find(([, re]) => re.test(platform))?.[0] ?? 'linux';
}

const LABELS: Record<AgentPlatform, string> = {
  'amazon-linux': 'Amazon Linux',
  rhel: 'Red Hat Enterprise Linux',
  centos: 'CentOS',
  rocky: 'Rocky Linux',
  oracle: 'Oracle Linux',
  suse: 'SUSE Linux Enterprise Server',
  ubuntu: 'Ubuntu Server',
  debian: 'Debian',
  windows: 'Windows Server',
  macos: 'macOS',
  linux: 'Linux',
};

export const platformLabel = (platform: string): string => LABELS[agentPlatform(platform)];

/**
 * Whether AWS's own AMIs for this platform ship the agent: Amazon Linux (2017.09 and later, AL2,
 * AL2023), Ubuntu (snap, 16.04 and later), SUSE, Windows Server and macOS. RHEL is documented as
 * not preinstalled; Debian, CentOS, Rocky and Oracle Linux have install pages only. An unknown
 * Linux is false: nothing says it has the agent. Even where it ships, it can be stopped or old.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/ami-preinstalled-agent.html
 */
export function agentPreinstalled(platform: string): boolean {
  return PREINSTALLED.has(agentPlatform(platform));
}
const PREINSTALLED: ReadonlySet<AgentPlatform> = new Set(['amazon-linux', 'ubuntu', 'suse', 'windows', 'macos']);

/** The command that shows whether the agent runs (the snap has its own service name on Ubuntu). */
export function agentStatusCommand(platform: string): string {
  const kind = agentPlatform(platform);
  if (kind === 'windows') return 'Get-Service AmazonSSMAgent';
  if (kind === 'macos') return 'sudo launchctl list com.amazon.aws.ssm';
  if (kind === 'ubuntu') return 'sudo snap services amazon-ssm-agent';
  return 'sudo systemctl status amazon-ssm-agent';
}

/** Where the agent logs why it cannot register (errors.log beside it holds the errors only). */
export function agentLogPath(platform: string): string {
  return agentPlatform(platform) === 'windows' ? 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log' : '/var/log/amazon/ssm/amazon-ssm-agent.log';
}

/** `s3.<region>.amazonaws.com` (`.com.cn` in China). */
const s3Host = (region: string) => `s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
const download = (region: string, dir: string, file: string) => `https://${s3Host(region)}/amazon-ssm-${region}/latest/${dir}/${file}`;
const cpu = (architecture?: string) => (/arm64|aarch64/i.test(architecture ?? '') ? 'arm64' : 'amd64');

interface Recipe {
  /** Installs the package (with sudo). */
  readonly install: string[];
  /** Starts it now and at boot. */
  readonly start: string[];
  /** Shows that it runs; not part of the user data. */
  readonly check: string[];
  readonly docs: string;
}

const SYSTEMD_START = ['sudo systemctl enable --now amazon-ssm-agent'];
const SYSTEMD_CHECK = ['sudo systemctl status amazon-ssm-agent'];

function linuxRecipe(platform: AgentPlatform, region: string, arch: string): Recipe {
  const rpm = download(region, `linux_${arch}`, 'amazon-ssm-agent.rpm');
  const deb = download(region, `debian_${arch}`, 'amazon-ssm-agent.deb');
  const rpmWith = (tool: string, docs: string): Recipe => ({ install: [`sudo ${tool} install -y ${rpm}`], start: SYSTEMD_START, check: SYSTEMD_CHECK, docs });
  switch (platform) {
    case 'rhel':
      // Runbook step 1: dnf from the regional bucket, then systemctl.
      return rpmWith('dnf', `${DOCS}/agent-install-rhel.html`);
    case 'rocky':
      return rpmWith('dnf', `${DOCS}/agent-install-rocky.html`);
    case 'centos':
      return rpmWith('yum', `${DOCS}/agent-install-centos.html`);
    case 'oracle':
      return rpmWith('yum', `${DOCS}/agent-install-oracle.html`);
    case 'amazon-linux':
      // Shipped with the AMI: reinstall only when it was removed, then start it.
      return {
        install: [`rpm -q amazon-ssm-agent || sudo yum install -y ${rpm}`],
        start: SYSTEMD_START,
        check: SYSTEMD_CHECK,
        docs: `${DOCS}/agent-install-al2.html`,
      };
    case 'suse':
      return {
        install: [`wget -O /tmp/amazon-ssm-agent.rpm ${rpm}`, 'sudo rpm --install /tmp/amazon-ssm-agent.rpm'],
        start: SYSTEMD_START,
        check: SYSTEMD_CHECK,
        docs: `${DOCS}/agent-install-sles.html`,
      };
    case 'debian':
      return {
        install: [`wget -O /tmp/amazon-ssm-agent.deb ${deb}`, 'sudo dpkg -i /tmp/amazon-ssm-agent.deb'],
        start: SYSTEMD_START,
        check: SYSTEMD_CHECK,
        docs: `${DOCS}/agent-install-deb.html`,
      };
    case 'ubuntu':
      // Ubuntu 18.04 and later: the snap, from the Snap store (no URL).
      return {
        install: ['sudo snap install amazon-ssm-agent --classic'],
        start: ['sudo snap start amazon-ssm-agent'],
        check: ['sudo snap services amazon-ssm-agent'],
        docs: `${DOCS}/agent-install-ubuntu.html`,
      };
    default:
      // Unknown distribution: the package its package manager takes.
      return {
        install: [
          `if command -v dnf >/dev/null; then sudo dnf install -y ${rpm}; ` +
            `elif command -v yum >/dev/null; then sudo yum install -y ${rpm}; ` +
            `elif command -v zypper >/dev/null; then wget -O /tmp/amazon-ssm-agent.rpm ${rpm} && sudo rpm --install /tmp/amazon-ssm-agent.rpm; ` +
            `else wget -O /tmp/amazon-ssm-agent.deb ${deb} && sudo dpkg -i /tmp/amazon-ssm-agent.deb; fi`,
        ],
        start: SYSTEMD_START,
        check: SYSTEMD_CHECK,
        docs: `${DOCS}/manually-install-ssm-agent-linux.html`,
      };
  }
}

function macRecipe(region: string, arch: string): Recipe {
  const pkg = download(region, `darwin_${arch}`, 'amazon-ssm-agent.pkg');
  return {
    install: [`curl -fsSL -o /tmp/amazon-ssm-agent.pkg ${pkg}`, 'sudo installer -pkg /tmp/amazon-ssm-agent.pkg -target /'],
    start: ['sudo launchctl load -w /Library/LaunchDaemons/com.amazon.aws.ssm.plist', 'sudo launchctl start com.amazon.aws.ssm'],
    check: ['sudo launchctl list com.amazon.aws.ssm'],
    docs: `${DOCS}/install-ssm-agent-macos.html`,
  };
}

/** The documented PowerShell download-and-install, with the regional URL and a temp file. */
function windowsRecipe(region: string): Recipe {
  const url = `https://amazon-ssm-${region}.${s3Host(region)}/latest/windows_amd64/AmazonSSMAgentSetup.exe`;
  const exe = '$env:TEMP\\SSMAgent_latest.exe';
  return {
    install: [
      "[System.Net.ServicePointManager]::SecurityProtocol = 'TLS12'",
      "$progressPreference = 'silentlyContinue'",
      `Invoke-WebRequest ${url} -OutFile ${exe}`,
      `Start-Process -FilePath ${exe} -ArgumentList "/S" -Wait`,
      `Remove-Item -Force ${exe}`,
    ],
    start: ['Restart-Service AmazonSSMAgent'],
    check: ['Get-Service AmazonSSMAgent'],
    docs: `${DOCS}/manually-install-ssm-agent-windows.html`,
  };
}

/**
 * Install commands, user data and docs for `platform` (EC2 PlatformDetails or an AMI name or
 * description, matched case-insensitively) in `region`. `architecture` is EC2's (`x86_64`,
 * `arm64`); it picks the `linux_arm64`/`darwin_arm64` packages on Graviton and Apple silicon.
 */
export function agentInstallCommands(platform: string, region: string, architecture?: string): AgentInstall {
  const kind = agentPlatform(platform);
  const arch = cpu(architecture);
  if (kind === 'windows') {
    const r = windowsRecipe(region);
    const userData = ['<powershell>', `# ssm-setup: install and start the SSM Agent (${LABELS[kind]})`, ...r.install, ...r.start, '</powershell>'].join('\n');
    return { commands: [...r.install, ...r.start, ...r.check], userData: `${userData}\n`, docs: r.docs };
  }
  const r = kind === 'macos' ? macRecipe(region, arch) : linuxRecipe(kind, region, arch);
  // User data runs as root: no sudo.
  const asRoot = (c: string) => c.replace(/\bsudo /g, '');
  const userData = ['#!/bin/bash', `# ssm-setup: install and start the SSM Agent (${LABELS[kind]})`, ...[...r.install, ...r.start].map(asRoot)].join('\n');
  return { commands: [...r.install, ...r.start, ...r.check], userData: `${userData}\n`, docs: r.docs };
}
