import { Command, Option } from 'commander';
import { defaultLabel, GLOBAL_SETTINGS, RENAMED, SETTING_GROUPS, type SettingGroup, type SettingSpec, STEP_SETTINGS, settingSpec } from '../config/settings.js';
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
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  program.optionsGroup('Global options:');
  for (const spec of GLOBAL_SETTINGS) program.addOption(optionFor(spec));
  program
    .option('-c, --config <file>', 'settings file (default ./ssm-setup.json when present)')
    .option('-y, --yes', 'accept defaults and confirmations; never prompt')
    .option('--json', 'print one JSON object on stdout; progress on stderr')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-v, --verbose', 'show every AWS call, and the cause and request id of a failure');

  /**
   * The settings a command uses, under their group headings (`Storage settings:`…), after the
   * command's own options; the global options follow (showGlobalOptions). A command never lists
   * settings it ignores: `destroy`, `check` and `export` take only theirs.
   */
  const withSettings = (cmd: Command, use: SettingUse = 'all') => {
    const order = (x: SettingSpec) => SETTING_GROUPS.indexOf(x.group ?? 'Local');
    const specs = STEP_SETTINGS.filter((x) => uses(use, x)).sort((x, y) => order(x) - order(y));
    for (const spec of specs) cmd.addOption(optionFor(spec).helpGroup(GROUP_HEADING[spec.group ?? 'Local']));
    // The old name of --resource-tags, still accepted (with a warning), not shown.
    if (use === 'all' || (Array.isArray(use) ? use.includes('Storage') : false)) {
      for (const r of RENAMED) cmd.addOption(new Option(`${r.fromFlag} <K=V,…>`).hideHelp());
    }
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

  // Each command: its own options first, then the settings it uses by group, then (shown by
  // commander) the global options, then a few examples.
  const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
  const resetDefaults = (cmd: Command) =>
    cmd.option('--reset-defaults', 'take the built-in defaults for what nobody gave, instead of the values the account already has');

  action(
    withSettings(resetDefaults(unlock(program.command('init').description('run every step in order; interactive on a terminal unless --yes')))),
  ).addHelpText(
    'after',
    examples(
      'ssm-setup init',
      'ssm-setup init --yes --config ssm-setup.json',
      'ssm-setup init --yes --region eu-west-1 --key-alias alias/sessions',
      'ssm-setup init --organization --ous ou-ab12-cdef3456 --regions eu-west-1,us-east-1',
    ),
  );

  action(
    withSettings(
      resetDefaults(
        program
          .command('plan')
          .description('show the changes init would make, without making them')
          .option('--detailed-exitcode', 'exit 3 when changes are pending, 0 when the account matches the settings'),
      ),
    ),
  ).addHelpText('after', examples('ssm-setup plan', 'ssm-setup plan --json --detailed-exitcode'));

  action(
    withSettings(
      resetDefaults(
        unlock(
          program
            .command('run')
            .description('run only the named steps; values other steps own are read, not changed')
            .argument('<step...>', 'step ids, see below'),
        ),
      ),
    ),
  ).addHelpText(
    'after',
    `\nSteps:\n${stepList}\n${examples('ssm-setup run kms-key --key-alias alias/sessions', 'ssm-setup run preferences --idle-timeout 30')}`,
  );

  action(
    withSettings(
      program
        .command('check')
        .description('read-only readiness report per target instance and for the operator')
        .option('--all', 'check every instance of the region')
        .option('--live', 'also start and at once end a real session on each ready target')
        .option('--deep', 'also run ssm-cli get-diagnostics on each Online target through Run Command'),
      CHECK_SETTINGS,
    ),
  ).addHelpText(
    'after',
    examples(
      'ssm-setup check --instance-ids i-0123456789abcdef0',
      'ssm-setup check --all --json',
      'ssm-setup check --tag Env=prod --live',
      'ssm-setup check --all --deep',
    ),
  );

  action(
    withSettings(
      program
        .command('audit')
        .description('read-only: match each session of a window with its S3 object and CloudWatch stream; exit 3 when one is missing')
        .option('--since <7d|24h|date>', 'sessions started since: days or hours back (7d, 24h), or a date (2026-11-01) (default 7d)'),
      ['Targets', 'Accounts'],
    ),
  ).addHelpText('after', examples('ssm-setup audit', 'ssm-setup audit --since 24h --json', 'ssm-setup audit --since 2026-11-01 --tag Env=prod'));

  action(
    program
      .command('ssh-config')
      .description('print, install or remove the managed ~/.ssh/config block')
      .option('--print', 'print the block for the current --profile/--region (the default)')
      .option('--write', 'install or update the block in ~/.ssh/config, keeping a backup of the file')
      .option('--remove', 'remove the block')
      .addOption(optionFor(settingSpec('sshConfigPath')!)),
  ).addHelpText('after', examples('ssm-setup ssh-config', 'ssm-setup ssh-config --write --profile prod --region eu-west-1', 'ssm-setup ssh-config --remove'));

  action(
    withSettings(
      unlock(
        program
          .command('destroy')
          .description('remove what ssm-setup created; keeps logs and key unless --delete-logs')
          .option('--delete-logs', 'also delete the log bucket and group, and schedule the key for deletion')
          .option('--force', 'required with --yes --delete-logs'),
      ),
      DESTROY_SETTINGS,
    ),
  ).addHelpText('after', examples('ssm-setup destroy', 'ssm-setup destroy --delete-logs', 'ssm-setup destroy --yes --delete-logs --force'));

  action(
    withSettings(
      program
        .command('export')
        .description('write the same setup as a CloudFormation template')
        .argument('<format>', 'cloudformation')
        .option('--format <yaml|json>', 'template format (default: from the -o file name, else yaml)')
        .option('-o, --output <file>', 'write to this file instead of stdout'),
      ['Storage', 'IAM', 'Preferences', 'cloudwatchAgent'],
    ),
  ).addHelpText('after', examples('ssm-setup export cloudformation > ssm-setup.yaml', 'ssm-setup export cloudformation -o template.json'));

  program.addHelpText(
    'after',
    `\nSteps (in order):\n${stepList}\n\nExit codes: 0 done, 1 a step or AWS call failed, 2 invalid input (nothing changed),\n3 changes pending (plan --detailed-exitcode), a target not ready (check)\nor a session without its record (audit), 130 declined or interrupted.`,
  );
  return program;
}

const GROUP_HEADING: Record<SettingGroup, string> = {
  Targets: 'Target instances:',
  Accounts: 'Accounts (several at once, by assuming a role in each):',
  Storage: 'Storage settings (key, bucket, log group, tags):',
  IAM: 'IAM settings:',
  Preferences: 'Session preferences:',
  Fleet: 'Fleet settings (agents, associations, endpoints):',
  Local: 'Local settings:',
};

/** Which settings a command takes: all of them, some groups, or named keys. */
type SettingUse = 'all' | readonly (SettingGroup | string)[];
const uses = (use: SettingUse, spec: SettingSpec) => use === 'all' || use.includes(spec.group ?? '') || use.includes(spec.key);
/** check reads the targets, and names the policies in its fixes and its SSH-config finding (off by choice with --deny-unlogged-sessions). */
const CHECK_SETTINGS = ['Targets', 'Accounts', 'instancePolicy', 'operatorPolicy', 'operatorAccess', 'denyUnloggedSessions', 'sshConfigPath'] as const;
/** destroy finds what ssm-setup made by these names. */
const DESTROY_SETTINGS = ['Accounts', 'keyAlias', 'bucket', 'logGroup', 'instanceRole', 'instancePolicy', 'operatorPolicy', 'sshConfigPath'] as const;

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
