import { describe, expect, it } from 'vitest';
import { toYaml } from '../../../src/ui/yaml.js';
import { hasPyYaml, pyYamlLoad, templateOf } from './helpers.js';

describe('toYaml', () => {
  it('writes block mappings and sequences, two spaces deep', () => {
    expect(toYaml({ a: 1, b: [true, null, { c: 'x', d: [] }], e: {}, f: [[1, 2], 'z'], g: undefined })).toBe(
      ['a: 1', 'b:', '  - true', '  - null', '  - c: x', '    d: []', 'e: {}', 'f:', '  - - 1', '    - 2', '  - z', ''].join('\n'),
    );
    expect(toYaml([])).toBe('[]\n');
    expect(toYaml({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${LogBucket}/*' })).toBe('Fn::Sub: arn:${AWS::Partition}:s3:::${LogBucket}/*\n');
  });

  it('quotes strings a YAML reader would take for something else', () => {
    const line = (s: string) => toYaml({ k: s }).slice(3, -1);
    for (const plain of ['alias/ssm-session-manager', 'kms:*', 'a#b', 'Fn::GetAtt', 'é ü', '${AWS::Region}', 'x-1', "it's"])
      expect(line(plain), plain).toBe(plain);
    const quoted: Record<string, string> = {
      '': "''",
      ' a': "' a'",
      'a ': "'a '",
      true: "'true'",
      False: "'False'",
      yes: "'yes'",
      NO: "'NO'",
      on: "'on'",
      Off: "'Off'",
      y: "'y'",
      null: "'null'",
      '~': "'~'",
      '<<': "'<<'",
      '=': "'='",
      '0': "'0'",
      '007': "'007'",
      '1.5': "'1.5'",
      '-1': "'-1'",
      '.5': "'.5'",
      '.inf': "'.inf'",
      '-.Inf': "'-.Inf'",
      '.NaN': "'.NaN'",
      '1e3': "'1e3'",
      '0x1F': "'0x1F'",
      '2012-10-17': "'2012-10-17'",
      '12:30': "'12:30'",
      '- a': "'- a'",
      '*': "'*'",
      '&a': "'&a'",
      '!Sub x': "'!Sub x'",
      '|': "'|'",
      '>': "'>'",
      '%x': "'%x'",
      '@x': "'@x'",
      '`x': "'`x'",
      '{a}': "'{a}'",
      '[a]': "'[a]'",
      ',x': "',x'",
      '#x': "'#x'",
      '?x': "'?x'",
      'a: b': "'a: b'",
      'a #b': "'a #b'",
      'a:': "'a:'",
      "'it'": "'''it'''",
      '"d"': `'"d"'`,
    };
    for (const [s, q] of Object.entries(quoted)) expect(line(s), JSON.stringify(s)).toBe(q);
    expect(line('tab\there')).toBe('"tab\\there"');
    expect(line('ctl\u0001\u0085\u2028\ufeff\u0090')).toBe('"ctl\\x01\\x85\\u2028\\uFEFF\\x90"');
    expect(line('a\r\nb')).toBe('"a\\r\\nb"');
  });

  it('writes multi-line text as a literal block, with the right chomping', () => {
    expect(toYaml({ k: 'one\n  two\n' })).toBe('k: |\n  one\n    two\n');
    expect(toYaml({ k: 'one\ntwo' })).toBe('k: |-\n  one\n  two\n');
    expect(toYaml({ k: 'one\n\ntwo\n\n' })).toBe('k: |+\n  one\n\n  two\n\n');
    expect(toYaml({ k: ['a\n\tb'] })).toBe('k:\n  - |-\n    a\n    \tb\n');
    // Not as a block: leading space or line break, trailing spaces, only line breaks.
    expect(toYaml({ k: ' a\nb' })).toBe('k: " a\\nb"\n');
    expect(toYaml({ k: '\na' })).toBe('k: "\\na"\n');
    expect(toYaml({ k: 'a\nb ' })).toBe('k: "a\\nb "\n');
    expect(toYaml({ k: '\n\n' })).toBe('k: "\\n\\n"\n');
  });

  it('writes numbers YAML 1.1 reads as numbers, and refuses what YAML cannot hold', () => {
    expect(toYaml({ a: 0, b: -1.5, c: 1e21, d: 1e-7 })).toBe('a: 0\nb: -1.5\nc: 1.0e+21\nd: 1.0e-7\n');
    expect(() => toYaml({ a: Number.NaN })).toThrow(/cannot write/);
  });

  const corpus = [
    '',
    ' a',
    'a ',
    'true',
    'False',
    'yes',
    'NO',
    'on',
    'null',
    '~',
    '<<',
    '=',
    '0',
    '007',
    '1.5',
    '-1',
    '.5',
    '.inf',
    '-.inf',
    '.NaN',
    '1e3',
    '0x1F',
    '0o17',
    '1_000',
    '2012-10-17',
    '2001-12-14t21:59:43.10-05:00',
    '12:30',
    '190:20:30',
    '- a',
    '-a',
    '? x',
    ':x',
    'a: b',
    'a #b',
    'a#b',
    'a:',
    '#x',
    '&a',
    '*',
    '!tag',
    '|',
    '>',
    "'q'",
    '"d"',
    '%x',
    '@x',
    '`x',
    '{a}',
    '[a]',
    ',x',
    "it's",
    'tab\there',
    'ctrl\u0001',
    '\u0085nel',
    'line\u2028sep',
    '\ufeffbom',
    'é ü 日本',
    '😀',
    'multi\nline',
    'multi\nline\n',
    'multi\n\n',
    '\nleading',
    ' indented\nx',
    'trailing \nx',
    'x\ntrailing ',
    'a\r\nb',
    '${AWS::Region}',
    'Fn::Sub',
    'arn:aws:s3:::b/*',
    'a\n  b\n\tc\n',
    'x\u0090y',
    'back\\slash',
  ];

  it.skipIf(!hasPyYaml())('reads back exactly with PyYAML (as cfn-lint does): strings as keys and values, numbers, the whole template', async () => {
    const data = {
      values: corpus,
      keys: Object.fromEntries(corpus.map((s, i) => [s, i])),
      numbers: [0, 1, -1, 1.5, 1e21, 1e-7, 36500],
      nested: [[[]], [{}], [{ a: [{ b: [1] }] }], null, true, false],
      template: await templateOf({
        cloudwatchLogs: true,
        runAs: 'ec2-user',
        shellProfileLinux: 'cd ${HOME}\necho "hi" \'there\'\n\tsudo -i\n',
        tags: ['Team=ops'],
      }),
    };
    expect(pyYamlLoad(toYaml(data))).toEqual(JSON.parse(JSON.stringify(data)));
  });
});
