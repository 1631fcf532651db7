import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SetupError, UsageError } from '../../base/errors.js';
import { labelFor, loadSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import { cloudFormationTemplate, exportProblems } from '../../policies/cloudformation/index.js';
import { toYaml } from '../../ui/yaml.js';
import { ExitCode } from '../exit-codes.js';
import { switches, typedSettings } from '../options.js';

const FORMATS = ['cloudformation'] as const;
const STYLES = ['yaml', 'json'] as const;

/** The style a file name asks for by its extension. */
const styleOfName = (file: string): (typeof STYLES)[number] | undefined => (/\.json$/i.test(file) ? 'json' : /\.ya?ml$/i.test(file) ? 'yaml' : undefined);

/**
 * The template's style: --format, else the -o file's extension (`t.json` is JSON), else JSON for
 * `--json` on stdout, else YAML. A --format the -o name contradicts is refused (exit 2).
 */
export function templateStyle(format: string | undefined, output: string | undefined, json: boolean): (typeof STYLES)[number] {
  if (format !== undefined && !STYLES.includes(format as (typeof STYLES)[number])) {
    throw new UsageError('UNKNOWN_FORMAT', `--format: must be yaml or json (got "${format}")`);
  }
  const named = output === undefined ? undefined : styleOfName(output);
  if (format && named && format !== named) {
    throw new UsageError('CONFLICTING_FLAGS', `--format ${format} with -o ${output}: the file name says ${named}`, {
      hint: `drop --format (the extension chooses), or name the file .${format === 'json' ? 'json' : 'yaml'}`,
    });
  }
  return (format as (typeof STYLES)[number] | undefined) ?? named ?? (json && output === undefined ? 'json' : 'yaml');
}

/**
 * `ssm-setup export cloudformation [--format yaml|json] [-o file]`: the setup as a template,
 * parameterised by the settings (their values become the parameters' defaults). Local only:
 * the settings are validated as usual, but no credentials are needed and no AWS call is made.
 */
export async function run(cmd: Command, args: string[], io: Io): Promise<number> {
  const [format] = args;
  if (!FORMATS.includes(format as (typeof FORMATS)[number])) {
    throw new UsageError('UNKNOWN_FORMAT', `unknown export format "${format}"`, {
      hint: `the formats are: ${FORMATS.join(', ')} (ssm-setup export cloudformation)`,
    });
  }
  const opts = cmd.opts<{ format?: string; output?: string }>();
  const sw = switches(cmd);
  const style = templateStyle(opts.format, opts.output, !!sw.json);
  if (sw.json && !opts.output && style !== 'json') {
    throw new UsageError('CONFLICTING_FLAGS', '--json with --format yaml needs -o <file>: stdout can carry only one JSON object', {
      hint: 'drop --json, or write the template to a file with -o',
    });
  }

  const loaded = await loadSettings({ flags: typedSettings(cmd), configPath: sw.config });
  for (const w of loaded.warnings ?? []) io.warn(w);
  const problems = exportProblems(loaded.settings).map((p) => `${labelFor(p.key, loaded.sources[p.key], loaded.configFile)}: ${p.message}`);
  if (problems.length)
    throw new UsageError('NOT_EXPORTABLE', problems, { hint: 'Nothing was written. Change the values above: the template cannot carry them.' });

  const path = opts.output === undefined ? undefined : resolve(opts.output);
  if (path && loaded.configFile && path === resolve(loaded.configFile)) {
    throw new UsageError('OUTPUT_IS_CONFIG', `-o ${opts.output}: that is the settings file this run read`, {
      hint: 'write the template to another file, e.g. -o ssm-setup.template.json',
    });
  }

  const template = cloudFormationTemplate(loaded.settings);
  const text = style === 'json' ? `${JSON.stringify(template, null, 2)}\n` : toYaml(template);
  if (!path) {
    process.stdout.write(text);
    return ExitCode.Ok;
  }
  try {
    await writeFile(path, text, 'utf8');
  } catch (err) {
    throw new SetupError('FILE_UNWRITABLE', `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { hint: 'choose another -o file' });
  }
  if (sw.json) {
    const report: RunReport = {
      command: 'export',
      ok: true,
      steps: [
        {
          id: 'export',
          title: 'CloudFormation template',
          status: 'created',
          changes: [{ action: 'create', resource: path, detail: `CloudFormation template (${style})` }],
          outputs: { file: path },
        },
      ],
    };
    io.result(report);
  } else {
    io.info(`CloudFormation template (${style}) written to ${path}`);
  }
  return ExitCode.Ok;
}
