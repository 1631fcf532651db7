import { describe, expect, it } from 'vitest';
import { templateStyle } from '../../src/cli/commands/export.js';

// Issue 14.11: `export cloudformation -o t.json` writes JSON: the format follows the file name.
describe('export: the template format', () => {
  it.each([
    [undefined, 't.json', false, 'json'],
    [undefined, 'T.JSON', false, 'json'],
    [undefined, 't.yaml', false, 'yaml'],
    [undefined, 't.yml', false, 'yaml'],
    [undefined, 't.template', false, 'yaml'],
    [undefined, undefined, false, 'yaml'],
    [undefined, undefined, true, 'json'],
    [undefined, 'out.yaml', true, 'yaml'],
    ['json', 't.template', false, 'json'],
    ['yaml', undefined, true, 'yaml'],
    ['json', 't.json', false, 'json'],
  ] as const)('--format %s -o %s (--json %s): %s', (format, output, json, style) => {
    expect(templateStyle(format, output, json)).toBe(style);
  });

  it('a --format the file name contradicts, or an unknown one, is bad input naming the flag', () => {
    expect(() => templateStyle('yaml', 't.json', false)).toThrow(
      expect.objectContaining({ code: 'CONFLICTING_FLAGS', message: expect.stringContaining('--format') }),
    );
    expect(() => templateStyle('xml', 'x.xml', false)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FORMAT', message: expect.stringContaining('--format') }),
    );
  });
});
