import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../base/errors.js';

/** The shared config and credentials files, where the SDK looks for them. */
function sharedFiles(env: NodeJS.ProcessEnv): string[] {
  return [env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'), env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials')];
}

/**
 * A named profile must exist in ~/.aws/config (`[profile x]`) or ~/.aws/credentials (`[x]`):
 * a typo is bad input (exit 2) found before any AWS call, not a credentials failure later.
 */
export async function assertProfileExists(profile: string, source: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const files = sharedFiles(env);
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')));
  const sections = texts.flatMap((t) => [...t.matchAll(/^\s*\[\s*(?:profile\s+)?([^\]]+?)\s*\]/gm)].map((m) => m[1]));
  if (sections.includes(profile)) return;
  throw new UsageError('UNKNOWN_PROFILE', `${source}: no profile "${profile}" in ${files.join(' or ')}`, {
    hint: sections.length ? `profiles found: ${[...new Set(sections)].join(', ')}` : 'create it with `aws configure --profile <name>` or `aws configure sso`',
  });
}
