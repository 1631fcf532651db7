import { Command, Option } from 'commander';
import { defaultLabel, GLOBAL_SETTINGS, type SettingSpec, STEP_SETTINGS, settingSpec } from '../config/settings.js';
import { STEPS } from '../engine/catalog.js';

/** What an action does once commander has parsed it; loaded lazily per command by main.ts. */
export type Handler = (name: string, cmd: Command, args: string[]) => Promise<number>;

const stepList = STEPS.map((s) => `  ${s.id.padEnd(16)} ${s.title}`).join('\n');

/**
 * The commander tree of the contract. Options have no parser defaults: an absent flag stays
 * undefined so it cannot override the config file (defaults live in the settings table).
 */
export function createProgram(handle: Handler): Command {
  const program = new Command('ssm-setup')
    .description('Set up AWS Systems Manager Session Manager for EC2 instances, step by step, safely rerunnable.')
    .version(__SSM_SETUP_VERSION__, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const spec of GLOBAL_SETTINGS) program.addOption(optionFor(spec));
  program
    .option('-c, --config <file>', 'settings file (default ./ssm-setup.json when present)')
    .option('-y, --yes', 'accept defaults and confirmations; never prompt')
    .option('--json', 'print one JSON object on stdout; progress on stderr')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-v, --verbose', 'show every AWS call');

  const withSettings = (cmd: Command) => {
    for (const spec of STEP_SETTINGS) cmd.addOption(optionFor(spec));
    return cmd;
  };
  // Not a setting (never in the config file): it removes another run's lease, so it is typed each time.
  const unlock = (cmd: Command) =>
    cmd.option('--force-unlock', 'first remove the lease of another ssm-setup run (one that was interrupted), warning whose it was');
  const action = (cmd: Command) =>
    cmd.action(async (...a: unknown[]) => {
      const self = a.at(-1) as Command;
      process.exitCode = await handle(self.name(), self, self.args);
    });

  action(unlock(withSettings(program.command('init').description('run every step in order; interactive on a terminal unless --yes')))).addHelpText(
    'after',
    `\nExamples:\n  $ ssm-setup init\n  $ ssm-setup init --yes --config ssm-setup.json\n  $ ssm-setup init --yes --region eu-west-1 --key-alias alias/sessions`,
  );

  action(withSettings(program.command('plan').description('show the changes init would make, without making them')))
    .option('--detailed-exitcode', 'exit 3 when changes are pending, 0 when everything is up to date')
    .addHelpText('after', `\nExamples:\n  $ ssm-setup plan\n  $ ssm-setup plan --json --detailed-exitcode`);

  action(unlock(withSettings(program.command('run').description('run only the named steps; values other steps own are read, not changed'))))
    .argument('<step...>', 'step ids, see below')
    .addHelpText(
      'after',
      `\nSteps:\n${stepList}\n\nExamples:\n  $ ssm-setup run kms-key --key-alias alias/sessions\n  $ ssm-setup run preferences --idle-timeout 30`,
    );

  action(withSettings(program.command('check').description('read-only readiness report per target instance and for the operator')))
    .option('--all', 'check every instance of the region')
    .option('--live', 'also start and at once end a real session on each ready target')
    .addHelpText('after', `\nExamples:\n  $ ssm-setup check --instance-ids i-0123456789abcdef0\n  $ ssm-setup check --all --json`);

  action(program.command('ssh-config').description('print, install or remove the managed ~/.ssh/config block'))
    .option('--print', 'print the block for the current --profile/--region (the default)')
    .option('--write', 'install or update the block in ~/.ssh/config, keeping a backup of the file')
    .option('--remove', 'remove the block')
    .addOption(optionFor(settingSpec('sshConfigPath')!))
    .addHelpText(
      'after',
      `\nExamples:\n  $ ssm-setup ssh-config\n  $ ssm-setup ssh-config --write --profile prod --region eu-west-1\n  $ ssm-setup ssh-config --remove`,
    );

  action(unlock(withSettings(program.command('destroy').description('remove what ssm-setup created; keeps logs and key unless --delete-logs'))))
    .option('--delete-logs', 'also delete the log bucket and group, and schedule the key for deletion')
    .option('--force', 'required with --yes --delete-logs')
    .addHelpText('after', `\nExamples:\n  $ ssm-setup destroy\n  $ ssm-setup destroy --delete-logs`);

  action(withSettings(program.command('export').description('write the same setup as a CloudFormation template')))
    .argument('<format>', 'cloudformation')
    .option('--format <yaml|json>', 'template format (default yaml)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `\nExamples:\n  $ ssm-setup export cloudformation > ssm-setup.yaml\n  $ ssm-setup export cloudformation --format json -o template.json`,
    );

  program.addHelpText(
    'after',
    `\nSteps (in order):\n${stepList}\n\nExit codes: 0 done, 1 a step or AWS call failed, 2 invalid input (nothing changed),\n3 changes pending (plan --detailed-exitcode), 130 declined or interrupted.`,
  );
  return program;
}

function optionFor(spec: SettingSpec): Option {
  const flags = spec.arg ? `${spec.flag} ${spec.arg}` : spec.flag;
  // The default is shown in the help only: a parser default would override the config file.
  const shown = defaultLabel(spec);
  const option = new Option(flags, shown ? `${spec.description} (default ${shown})` : spec.description);
  return spec.kind === 'repeated' ? option.argParser(collect) : option;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
