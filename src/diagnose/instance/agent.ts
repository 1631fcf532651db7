import type { TargetInstance } from '../../core/step.js';
import { agentInstallCommands, agentLogPath, agentPlatform, agentPreinstalled, agentStatusCommand, platformLabel } from '../../policies/agent-install.js';
import { type Cause, CHECKS, type Checked, type DiagnoseContext } from '../context.js';
import { error, type Finding, ok, warn } from '../finding.js';
import { isDenied, missing, type Reads } from '../reads.js';

/** The OS behind an instance: PlatformDetails when it names one, else its AMI's name or description. */
export type Os = { readonly platform: string; readonly from: string } | { readonly unknown: Finding };

/** Which OS the instance runs, from PlatformDetails, else from its AMI; a warning when it cannot be told. Pure. */
export function resolveOs(t: TargetInstance, reads: Pick<Reads, 'images'>, ctx: DiagnoseContext): Os {
  const check = CHECKS.agent;
  if (agentPlatform(t.platform) !== 'linux') return { platform: t.platform, from: `platform "${t.platform}"` };
  if (!t.imageId) return { unknown: warn(check, `"${t.platform}" does not tell the distribution, and the AMI is unknown`) };
  if (isDenied(reads.images)) return { unknown: warn(check, missing(`AMI ${t.imageId}`, reads.images)) };
  const image = reads.images.get(t.imageId);
  if (!image) return { unknown: warn(check, `AMI ${t.imageId} is no longer available: the distribution is unknown`) };
  const platform = agentPlatform(image.name) !== 'linux' ? image.name : image.description;
  const from = `AMI ${t.imageId} "${image.name || image.description}"`;
  if (agentPlatform(platform) !== 'linux') return { platform, from };
  const { docs } = agentInstallCommands(platform, ctx.region, t.architecture);
  return { unknown: warn(check, `${from}: distribution not recognised, the agent may not be installed`, docs) };
}

/** Whether the OS ships the SSM Agent; when it does not, the install commands and a launch script. Pure. */
export function checkAgent(t: TargetInstance, os: Os, ctx: DiagnoseContext): Checked {
  if ('unknown' in os) return { findings: [os.unknown] };
  const { platform, from } = os;
  const label = platformLabel(platform);
  if (agentPreinstalled(platform)) return { findings: [ok(CHECKS.agent, `${label} AMIs ship the SSM Agent (${from})`)] };
  const install = agentInstallCommands(platform, ctx.region, t.architecture);
  return {
    findings: [error(CHECKS.agent, `${label} AMIs do not include the SSM Agent (${from})`, install.commands[0]!)],
    cause: {
      text: `the SSM Agent is not installed: ${label} AMIs do not include it`,
      fix: [...install.commands, 'new instances: launch them with the user data below (user data runs at first boot only)', `docs: ${install.docs}`],
    },
    userData: install.userData,
  };
}

/** Nothing found wrong: the agent is there but does not run or does not get through. */
export function agentNotRunning(platform: string, findings: readonly Finding[]): Cause {
  const unsure = findings.some((f) => f.status === 'warning') ? ' (some checks were inconclusive: see the warnings)' : '';
  const kind = agentPlatform(platform);
  const restart =
    kind === 'windows'
      ? 'Restart-Service AmazonSSMAgent'
      : kind === 'ubuntu'
        ? 'sudo snap restart amazon-ssm-agent'
        : kind === 'macos'
          ? 'sudo launchctl kickstart -k system/com.amazon.aws.ssm'
          : 'sudo systemctl restart amazon-ssm-agent';
  return {
    text: `the agent is not running or cannot register${unsure}`,
    fix: [agentStatusCommand(platform), `read ${agentLogPath(platform)}${kind === 'windows' ? '' : ' (and errors.log beside it)'} on the instance`, restart],
  };
}
