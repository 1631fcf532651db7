import type { LoadedSettings } from '../config/load.js';
import { ALL_SETTINGS, DEFAULTS, type SettingSpec } from '../config/settings.js';

export interface RerunOptions {
  /**
   * The region of this run. In a `--regions` run it is named instead of `--regions`: the hint
   * reruns the one region that failed (its `-<region>` IAM names come with the settings).
   */
  readonly region?: string;
  /** In a `--regions` run: rerun these regions (the failed ones) together instead. */
  readonly regions?: readonly string[];
  /** In a run over many accounts: rerun these (the failed ones) by `--accounts`, instead of how they were chosen. */
  readonly accounts?: readonly string[];
  /** Switches that are not settings but change what the command does, e.g. `--delete-logs`. */
  readonly switches?: readonly string[];
}

/**
 * The command that reruns this run with the settings that made it: the command (and the step ids
 * of `run`), `--config <file>` when a settings file was read, and every setting the operator
 * typed as a flag or answered in the wizard (an answer equal to the built-in default adds
 * nothing), rebuilt from the settings table and quoted for a POSIX shell. Without them a rerun
 * would converge to other settings (`ssm-setup run instance-role` without `--cloudwatch-logs`
 * writes the policy without its CloudWatch statements). Values from the environment are left
 * out: the shell that reruns it still has them. Pure.
 */
export function rerunCommand(command: string, steps: readonly string[], loaded: LoadedSettings, opts: RerunOptions = {}): string {
  const words = ['ssm-setup', command, ...steps];
  if (loaded.configFile) words.push('--config', quote(loaded.configFile));
  // A --regions run names its regions itself (below); its `region` is the first of them.
  const several = loaded.settings.regions.length > 1;
  for (const spec of ALL_SETTINGS) {
    if (several && (spec.key === 'regions' || spec.key === 'region')) continue;
    if (opts.accounts && ACCOUNT_KEYS.has(spec.key)) continue;
    const source = loaded.sources[spec.key];
    const value = loaded.raw[spec.key];
    if (source === 'flag' || (source === 'prompt' && JSON.stringify(value) !== JSON.stringify(DEFAULTS[spec.key as keyof typeof DEFAULTS]))) {
      words.push(...flagWords(spec, value));
    }
  }
  if (several) {
    if (opts.regions && opts.regions.length > 1) words.push('--regions', quote(opts.regions.join(',')));
    else if (opts.region) words.push('--region', quote(opts.region));
    else words.push('--regions', quote(loaded.settings.regions.join(',')));
  }
  if (opts.accounts?.length) words.push('--accounts', quote(opts.accounts.join(',')));
  // A switch the settings already give (`--cloudwatch-logs`) is not repeated.
  words.push(...(opts.switches ?? []).filter((w) => !words.includes(w)));
  return words.join(' ');
}

/** How the accounts of a run were chosen: a rerun of some of them names them instead. */
const ACCOUNT_KEYS = new Set(['accounts', 'organization', 'ous', 'excludeAccounts', 'includeCallerAccount']);

/** A setting as the flags that give it: `--idle-timeout 30`, `--cloudwatch-logs`, `--no-agent-update`, `--tag a --tag b`. */
function flagWords(spec: SettingSpec, value: unknown): string[] {
  switch (spec.kind) {
    case 'boolean':
      return value === true ? [spec.flag] : [];
    case 'negated':
      return value === false ? [spec.flag] : [];
    case 'repeated':
      return listOf(value).flatMap((v) => [spec.flag, quote(v)]);
    case 'list':
      return listOf(value).length ? [spec.flag, quote(listOf(value).join(','))] : [];
    default:
      // An empty value is a choice too (`--s3-prefix ''`).
      return value === undefined ? [] : [spec.flag, quote(String(value))];
  }
}

/** A list setting's values; `tags` may be a map (`K=V` each). */
function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`);
  return value === undefined || value === '' ? [] : [String(value)];
}

/** One shell word: as is when it holds only safe characters, else in single quotes. */
export function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
