import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { applyBlock, BEGIN_MARKER, END_MARKER, hasCurrentBlock, removeBlock, sshConfigBlock } from '../../src/policies/ssh-config.js';

const POSIX = sshConfigBlock({ windows: false });
const PROD = sshConfigBlock({ profile: 'prod', region: 'eu-west-1', windows: false });

/** The option lines of a block (no comments), trimmed. */
const options = (block: string) =>
  block
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => l.trim());

const OTHER_HOSTS = [
  '# my hosts',
  'ServerAliveInterval 60',
  'Include ~/.orbstack/ssh/config',
  '',
  '# work',
  'Host bastion',
  '    HostName bastion.example.com',
  '    User alice',
  '',
  'Host *',
  '    AddKeysToAgent yes',
  '',
].join('\n');

describe('sshConfigBlock', () => {
  it('POSIX: markers, Host i-* mi-*, the sh -c ProxyCommand, accept-new and a separate known_hosts', () => {
    const lines = POSIX.split('\n');
    expect(lines[0]).toBe(BEGIN_MARKER);
    expect(lines.at(-2)).toBe(END_MARKER);
    expect(POSIX.endsWith('\n')).toBe(true);
    expect(options(POSIX)).toEqual([
      'Host i-* mi-*',
      `ProxyCommand sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p'"`,
      'StrictHostKeyChecking accept-new',
      'UserKnownHostsFile ~/.ssh/known_hosts_ssm',
    ]);
    // Why the separate known_hosts file is said in the block itself.
    expect(POSIX).toMatch(/# .*separate known_hosts file/);
    expect(POSIX).toContain('new host keys');
  });

  it('carries --profile and --region inside the quoted command when given', () => {
    expect(options(PROD)[1]).toBe(
      `ProxyCommand sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p' --profile prod --region eu-west-1"`,
    );
    expect(options(sshConfigBlock({ region: 'us-east-1', windows: false }))[1]).toMatch(/'portNumber=%p' --region us-east-1"$/);
    expect(options(sshConfigBlock({ profile: 'dev', windows: false }))[1]).toMatch(/'portNumber=%p' --profile dev"$/);
  });

  it('Windows: PowerShell by its full path, no sh', () => {
    const win = sshConfigBlock({ profile: 'prod', region: 'eu-west-1', windows: true });
    expect(options(win)[1]).toBe(
      'ProxyCommand C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --profile prod --region eu-west-1"',
    );
    expect(win).not.toContain('sh -c');
    expect(options(win)).toContain('StrictHostKeyChecking accept-new');
  });

  it('refuses a profile name that would break the quoting, naming --profile', () => {
    for (const profile of ['a b', 'x"y', '$(rm -rf ~)', '50%', 'a\\b']) {
      const error = (() => {
        try {
          sshConfigBlock({ profile, windows: false });
        } catch (e) {
          return e;
        }
      })();
      expect(error, profile).toBeInstanceOf(UsageError);
      expect((error as UsageError).code, profile).toBe('PROFILE_UNSAFE_FOR_SSH');
      expect((error as UsageError).message, profile).toContain('--profile');
    }
    expect(() => sshConfigBlock({ profile: 'team.prod-1@sso', windows: false })).not.toThrow();
  });
});

describe('applyBlock', () => {
  it('empty file: the block is the whole file', () => {
    expect(applyBlock('', POSIX)).toEqual({ text: POSIX, change: 'create' });
  });

  it('file with other hosts: inserted before the first Host (and its comments), everything else kept byte-for-byte', () => {
    const { text, change, conflict } = applyBlock(OTHER_HOSTS, POSIX);
    expect(change).toBe('create');
    expect(conflict).toBeUndefined();
    const globals = '# my hosts\nServerAliveInterval 60\nInclude ~/.orbstack/ssh/config\n\n';
    expect(text).toBe(globals + POSIX + OTHER_HOSTS.slice(globals.length));
    // Global options stay above the block (not inside its Host section); the block precedes every Host.
    expect(text.indexOf(BEGIN_MARKER)).toBeLessThan(text.indexOf('Host bastion'));
    expect(text.indexOf('Include')).toBeLessThan(text.indexOf(BEGIN_MARKER));
    expect(removeBlock(text)).toEqual({ text: OTHER_HOSTS, removed: true });
  });

  it('a file of global options only, without a final newline: appended on a line of its own', () => {
    const { text, change } = applyBlock('ServerAliveInterval 60', POSIX);
    expect(change).toBe('create');
    expect(text).toBe(`ServerAliveInterval 60\n${POSIX}`);
  });

  it('a Match section counts as a section too; Host=… and lower-case keywords are recognised', () => {
    expect(applyBlock('Compression yes\nmatch user root\n  IdentityFile x\n', POSIX).text).toBe(`Compression yes\n${POSIX}match user root\n  IdentityFile x\n`);
    expect(applyBlock('Compression yes\nhost=web\n', POSIX).text).toBe(`Compression yes\n${POSIX}host=web\n`);
  });

  it('block present and current: no change, same text', () => {
    const once = applyBlock(OTHER_HOSTS, PROD).text;
    expect(applyBlock(once, PROD)).toEqual({ text: once, change: 'none' });
    expect(hasCurrentBlock(once, PROD)).toBe(true);
  });

  it('block present and outdated: replaced in place, the rest untouched', () => {
    const old = `Host a\n  User x\n${POSIX}Host b\n  User y\n`;
    expect(hasCurrentBlock(old, PROD)).toBe(false);
    const { text, change } = applyBlock(old, PROD);
    expect(change).toBe('update');
    expect(text).toBe(`Host a\n  User x\n${PROD}Host b\n  User y\n`);
  });

  it('an edited block (a line changed by hand between the markers) is rewritten', () => {
    const edited = applyBlock('', POSIX).text.replace('accept-new', 'no');
    expect(applyBlock(edited, POSIX)).toEqual({ text: POSIX, change: 'update' });
  });

  it('foreign Host i-* outside the markers: a conflict naming the line, file untouched', () => {
    const file = 'Host web\n  User a\n\nHost i-* mi-*\n  ProxyCommand sh -c "aws ssm start-session --target %h"\n';
    const result = applyBlock(file, POSIX);
    expect(result).toEqual({ text: file, change: 'none', conflict: 'line 4: Host i-* mi-*' });
    // Also for a single instance, mi- nodes, odd spacing, and alongside our own block.
    expect(applyBlock('Host\ti-0123456789abcdef0\n', POSIX).conflict).toBe('line 1: Host\ti-0123456789abcdef0');
    expect(applyBlock('HOST = web mi-*\n', POSIX).conflict).toBe('line 1: HOST = web mi-*');
    expect(applyBlock(`${POSIX}Host i-abc\n`, PROD)).toMatchObject({ change: 'none', conflict: expect.stringContaining('Host i-abc') });
  });

  it('no conflict for Host * or hosts whose names merely contain i-, nor for commented lines', () => {
    for (const file of ['Host *\n  User a\n', 'Host api-server\n', 'Host !i-*\n', '# Host i-*\n']) {
      expect(applyBlock(file, POSIX).conflict, file).toBeUndefined();
    }
  });

  it('a begin marker without its end marker is reported, nothing changed', () => {
    const broken = `Host a\n${BEGIN_MARKER}\nHost i-* mi-*\n`;
    const result = applyBlock(broken, POSIX);
    expect(result.text).toBe(broken);
    expect(result.change).toBe('none');
    expect(result.conflict).toContain('line 2');
    expect(removeBlock(broken)).toMatchObject({ text: broken, removed: false, conflict: expect.stringContaining('end marker') });
  });

  it('CRLF file stays CRLF: the block gets CRLF, other lines keep theirs, and a rerun is no change', () => {
    const crlf = OTHER_HOSTS.replace(/\n/g, '\r\n');
    const { text, change } = applyBlock(crlf, POSIX);
    expect(change).toBe('create');
    expect(text.replace(/\r\n/g, '')).not.toContain('\n'); // no bare LF anywhere
    expect(text).toContain(POSIX.replace(/\n/g, '\r\n'));
    expect(applyBlock(text, POSIX).change).toBe('none');
    expect(hasCurrentBlock(text, POSIX)).toBe(true);
    expect(applyBlock(text, PROD).text).toBe(text.replace(POSIX.replace(/\n/g, '\r\n'), PROD.replace(/\n/g, '\r\n')));
    expect(removeBlock(text).text).toBe(crlf);
  });
});

describe('removeBlock', () => {
  it('takes the block out, markers included, and leaves the rest byte-for-byte', () => {
    const file = `Compression yes\n${PROD}Host a\n  User x\n`;
    expect(removeBlock(file)).toEqual({ text: 'Compression yes\nHost a\n  User x\n', removed: true });
  });

  it('a file without the block is returned as is, removed false', () => {
    expect(removeBlock(OTHER_HOSTS)).toEqual({ text: OTHER_HOSTS, removed: false });
    expect(removeBlock('')).toEqual({ text: '', removed: false });
  });

  it('removes a duplicated block too', () => {
    expect(removeBlock(`${POSIX}Host a\n${PROD}`)).toEqual({ text: 'Host a\n', removed: true });
  });
});
