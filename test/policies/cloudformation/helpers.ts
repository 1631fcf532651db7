import { spawnSync } from 'node:child_process';
import { cloudFormationTemplate } from '../../../src/policies/cloudformation/index.js';
import { resolveConditions } from '../../../src/policies/cloudformation/intrinsics.js';
import { settingsFrom } from '../../helpers/fixtures.js';

/** Shared by the tests of src/policies/cloudformation/. */

export type Obj = Record<string, any>;

export const defaults = async () => (await settingsFrom()).settings;
export const templateOf = async (flags: Record<string, unknown> = {}) => cloudFormationTemplate((await settingsFrom(flags)).settings) as Obj;

/** The placeholders, spelled out here rather than taken from the module under test. */
export const PARTITION = '${AWS::Partition}';
export const ACCOUNT = '${AWS::AccountId}';
export const REGION = '${AWS::Region}';
export const KEY_ARN = '${SessionKey.Arn}';
export const BUCKET = '${LogBucket}';
export const PREFIX = '${S3Prefix}';

/** Every condition of the template, set one way. */
export const conditionsOf = (t: Obj, holds: Record<string, boolean>) => Object.fromEntries(Object.keys(t.Conditions).map((c) => [c, holds[c] ?? false]));

/** A reference is what the template itself defines: pseudo parameters, parameters, resources. */
export const referencesOf = (t: Obj) => (name: string) => name.startsWith('AWS::') || name in t.Parameters || name.split('.')[0]! in t.Resources;

/** What a value of the template is once CloudFormation knows the conditions. */
export const resolved = (t: Obj, value: unknown, holds: Record<string, boolean>) => resolveConditions(value, conditionsOf(t, holds));

/** Every combination of true/false for these names. */
export function combinations(names: readonly string[]): Record<string, boolean>[] {
  return names.reduce<Record<string, boolean>[]>(
    (all, n) =>
      all.flatMap((c) => [
        { ...c, [n]: true },
        { ...c, [n]: false },
      ]),
    [{}],
  );
}

export function walk(value: unknown, visit: (v: Obj) => void): void {
  if (Array.isArray(value)) for (const v of value) walk(v, visit);
  else if (value && typeof value === 'object') {
    visit(value as Obj);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

export function hasPython(): boolean {
  const ok = spawnSync('python3', ['--version']).status === 0;
  if (!ok) console.warn('skipped: python3 is not on PATH');
  return ok;
}

export function hasPyYaml(): boolean {
  const ok = spawnSync('python3', ['-c', 'import yaml']).status === 0;
  if (!ok) console.warn('skipped: python3 with PyYAML (pip install pyyaml; cfn-lint brings it) is not available');
  return ok;
}

export function pyYamlLoad(text: string): unknown {
  const r = spawnSync('python3', ['-c', 'import json,sys,yaml; sys.stdout.write(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))))'], {
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`PyYAML could not read the YAML:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}
