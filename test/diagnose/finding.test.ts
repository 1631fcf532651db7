import { describe, expect, it } from 'vitest';
import { error, ok, warn } from '../../src/diagnose/finding.js';

describe('the finding constructors', () => {
  it('ok has no fix; warn has one only when given; error always has one', () => {
    expect(ok('state', 'running')).toEqual({ check: 'state', status: 'ok', detail: 'running' });
    expect(warn('route', 'unknown')).toStrictEqual({ check: 'route', status: 'warning', detail: 'unknown' });
    expect(warn('route', 'unknown', 'look')).toEqual({ check: 'route', status: 'warning', detail: 'unknown', fix: 'look' });
    expect(error('agent', 'missing', 'install it')).toEqual({ check: 'agent', status: 'error', detail: 'missing', fix: 'install it' });
  });

  it('keeps the --json key order: check, status, detail, fix', () => {
    expect(Object.keys(error('a', 'b', 'c'))).toEqual(['check', 'status', 'detail', 'fix']);
    expect(JSON.stringify(warn('a', 'b'))).toBe('{"check":"a","status":"warning","detail":"b"}');
  });
});
