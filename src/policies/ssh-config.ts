/**
 * The managed block of `~/.ssh/config` for SSH over Session Manager (runbook step 10; AWS user
 * guide, "Allow and control permissions for SSH connections through Session Manager"): pure text in, text out. The block sits between
 * two marker comments; everything outside the markers is left byte-for-byte as it was.
 */
import { UsageError } from '../base/errors.js';

export const BEGIN_MARKER = '# >>> ssm-setup (managed block; edit with ssm-setup ssh-config) >>>';
export const END_MARKER = '# <<< ssm-setup <<<';
/** Known host keys of Session Manager hosts, apart from ~/.ssh/known_hosts. */
export const SSM_KNOWN_HOSTS = '~/.ssh/known_hosts_ssm';
/** Host patterns of EC2 instances and of hybrid managed nodes. */
export const HOST_PATTERNS = ['i-*', 'mi-*'] as const;

/** Found by prefix, so that a block written by another version of the marker text is still ours. */
const isBegin = (line: string) => line.trim().startsWith('# >>> ssm-setup');
const isEnd = (line: string) => line.trim().startsWith('# <<< ssm-setup');

/** `Host x y`, `host=x`, `Match …`: the keyword is case-insensitive, `=` may separate it. */
const SECTION = /^\s*(host|match)(?:\s*=\s*|\s+)(.*)$/i;

/** What a profile name may hold to sit unquoted inside `sh -c "…"` and PowerShell's `"…"`. */
const SAFE_PROFILE = /^[A-Za-z0-9._@+=,:/-]+$/;

export interface SshBlockOptions {
  readonly profile?: string;
  readonly region?: string;
  /** PowerShell form (OpenSSH for Windows has no `sh`). */
  readonly windows: boolean;
}

/** The start-session command ssh runs as its ProxyCommand, with `%h`/`%p` for ssh to fill in. */
function startSession(opts: SshBlockOptions, port: string): string {
  if (opts.profile !== undefined && !SAFE_PROFILE.test(opts.profile)) {
    throw new UsageError(
      'PROFILE_UNSAFE_FOR_SSH',
      `--profile: "${opts.profile}" cannot be used in the SSH ProxyCommand: only letters, digits and ._@+=,:/- are safe there`,
      {
        hint: 'use a profile whose name has none of spaces, quotes, $, % or backslashes',
      },
    );
  }
  return [
    'aws ssm start-session --target %h --document-name AWS-StartSSHSession',
    `--parameters ${port}`,
    ...(opts.profile ? [`--profile ${opts.profile}`] : []),
    ...(opts.region ? [`--region ${opts.region}`] : []),
  ].join(' ');
}

/** The whole managed block, markers included, LF line ends, ending with a newline. */
export function sshConfigBlock(opts: SshBlockOptions): string {
  const proxy = opts.windows
    ? `C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe "${startSession(opts, 'portNumber=%p')}"`
    : `sh -c "${startSession(opts, "'portNumber=%p'")}"`;
  return [
    BEGIN_MARKER,
    '# ssh and scp to EC2 instances (i-*) and hybrid managed nodes (mi-*) through AWS Systems',
    '# Manager Session Manager (document AWS-StartSSHSession): no inbound port 22, no bastion.',
    '# `ssm-setup ssh-config --write` rewrites this block and `--remove` takes it out: edits',
    '# between the markers are overwritten.',
    '# The host name here is only an instance id, not a DNS name, and ids churn: fleets replace',
    '# instances by the thousand, and one id can come back with new host keys (root volume',
    '# replaced, instance rebuilt). Their keys therefore go to a separate known_hosts file, which',
    '# can be cleared without touching your other hosts. accept-new trusts the key of an id seen',
    '# for the first time (Session Manager already picked the target through IAM) and still',
    `# refuses a changed one; forget it with: ssh-keygen -R <instance-id> -f ${SSM_KNOWN_HOSTS}`,
    `Host ${HOST_PATTERNS.join(' ')}`,
    `    ProxyCommand ${proxy}`,
    '    StrictHostKeyChecking accept-new',
    `    UserKnownHostsFile ${SSM_KNOWN_HOSTS}`,
    END_MARKER,
    '',
  ].join('\n');
}

export type BlockChange = 'create' | 'update' | 'none';

export interface AppliedBlock {
  /** The new file text; the input itself when there is nothing to do or a conflict. */
  readonly text: string;
  readonly change: BlockChange;
  /** Why the file was left alone: a foreign `Host i-*` entry (line number and text), or a broken block. */
  readonly conflict?: string;
}

/**
 * Puts `block` into `file`: replaces the managed block in place when it differs, else inserts
 * it before the first `Host`/`Match` section (and the comment lines directly above it), so it
 * comes before every other section and wins, while global options stay global. Lines outside
 * the markers are kept byte-for-byte; a CRLF file gets the block with CRLF. A foreign `Host`
 * entry for `i-*`/`mi-*` hosts outside the markers is a conflict: the file is returned as is.
 */
export function applyBlock(file: string, block: string): AppliedBlock {
  const eol = eolOf(file);
  const wanted = withEol(block, eol);
  const lines = splitLines(file);
  const range = blockRange(lines);
  if (range === 'broken') return { text: file, change: 'none', conflict: brokenMessage(lines) };
  const foreign = foreignHost(lines, range);
  if (foreign) return { text: file, change: 'none', conflict: foreign };

  if (range) {
    const current = lines.slice(range.begin, range.end + 1).join('');
    if (current === wanted) return { text: file, change: 'none' };
    const text = [...lines.slice(0, range.begin), wanted, ...lines.slice(range.end + 1)].join('');
    return { text, change: 'update' };
  }

  const at = insertionIndex(lines);
  const before = lines.slice(0, at).join('');
  // A last line without its newline must not run into the begin marker.
  const joint = before && !before.endsWith('\n') ? eol : '';
  return { text: `${before}${joint}${wanted}${lines.slice(at).join('')}`, change: 'create' };
}

export interface RemovedBlock {
  readonly text: string;
  /** Whether a managed block was there (and is gone from `text`). */
  readonly removed: boolean;
  /** A begin marker without its end marker: nothing was removed. */
  readonly conflict?: string;
}

/** Takes every managed block out, markers included; the rest of the file is kept byte-for-byte. */
export function removeBlock(file: string): RemovedBlock {
  let lines = splitLines(file);
  let removed = false;
  for (;;) {
    const range = blockRange(lines);
    if (range === 'broken') return { text: file, removed: false, conflict: brokenMessage(lines) };
    if (!range) return { text: removed ? lines.join('') : file, removed };
    lines = [...lines.slice(0, range.begin), ...lines.slice(range.end + 1)];
    removed = true;
  }
}

/** Whether `file` holds the managed block exactly as `block` (in the file's line ends): for `check`. */
export function hasCurrentBlock(file: string, block: string): boolean {
  const lines = splitLines(file);
  const range = blockRange(lines);
  return !!range && range !== 'broken' && lines.slice(range.begin, range.end + 1).join('') === withEol(block, eolOf(file));
}

/** Lines with their own line ends (the last one may have none). */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** CRLF when the file's first line ends so, else LF (a new file gets LF). */
function eolOf(text: string): string {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

function withEol(block: string, eol: string): string {
  const lf = block.replace(/\r\n/g, '\n');
  return (lf.endsWith('\n') ? lf : `${lf}\n`).replace(/\n/g, eol);
}

/** The first managed block (line indexes of its markers), none, or a begin marker without an end. */
function blockRange(lines: readonly string[]): { begin: number; end: number } | undefined | 'broken' {
  const begin = lines.findIndex(isBegin);
  if (begin < 0) return lines.some(isEnd) ? 'broken' : undefined;
  const end = lines.findIndex((l, i) => i > begin && isEnd(l));
  if (end < 0 || lines.slice(begin + 1, end).some(isBegin)) return 'broken';
  return { begin, end };
}

function brokenMessage(lines: readonly string[]): string {
  const begin = lines.findIndex(isBegin);
  return begin >= 0
    ? `line ${begin + 1}: the ssm-setup block begins here but its end marker "${END_MARKER}" is missing; fix the file by hand`
    : `line ${lines.findIndex(isEnd) + 1}: an ssm-setup end marker without its begin marker; fix the file by hand`;
}

/** The first `Host` line outside the block with a pattern for instance ids (`i-*`, `mi-…`), as `line N: Host …`. */
function foreignHost(lines: readonly string[], range: { begin: number; end: number } | undefined): string | undefined {
  for (const [i, line] of lines.entries()) {
    if (range && i >= range.begin && i <= range.end) continue;
    const m = SECTION.exec(line.replace(/\r?\n$/, ''));
    if (!m || m[1]!.toLowerCase() !== 'host') continue;
    const patterns = m[2]!.split(/\s+/).map((p) => p.replace(/^"|"$/g, ''));
    if (patterns.some((p) => /^m?i-/i.test(p))) return `line ${i + 1}: ${line.trim()}`;
  }
  return undefined;
}

/** Before the first `Host`/`Match` line and the comment lines directly above it; else the end. */
function insertionIndex(lines: readonly string[]): number {
  let at = lines.findIndex((l) => SECTION.test(l.replace(/\r?\n$/, '')));
  if (at < 0) return lines.length;
  while (at > 0 && lines[at - 1]!.trim().startsWith('#')) at--;
  return at;
}
