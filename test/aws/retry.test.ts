import { describe, expect, it } from 'vitest';
import { kmsConsistency, kmsKeyNotYetVisible, logsKeyNotYetUsable, profileNotYetVisible, retryWhile } from '../../src/aws/retry.js';

const error = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('retryWhile', () => {
  it('retries while the error is retryable, then returns the result', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await retryWhile(
      async () => {
        if (++calls < 3) throw error('NotFoundException');
        return 'done';
      },
      kmsKeyNotYetVisible,
      (ms) => waits.push(ms),
      { timeoutMs: 1_000, delayMs: 0 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('fails at once on an error that is not retryable', async () => {
    let calls = 0;
    const denied = error('AccessDeniedException', 'User is not authorized to perform: kms:CreateAlias');
    await expect(
      retryWhile(
        async () => {
          calls++;
          throw denied;
        },
        kmsKeyNotYetVisible,
        undefined,
        { timeoutMs: 1_000, delayMs: 0 },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('backs off (doubling up to maxDelayMs) and gives up when the next wait would pass the budget', async () => {
    let calls = 0;
    const waited: number[] = [];
    await expect(
      retryWhile(
        async () => {
          calls++;
          throw error('NotFoundException');
        },
        kmsKeyNotYetVisible,
        (ms) => waited.push(ms),
        { timeoutMs: 300, delayMs: 30, maxDelayMs: 120 },
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    // Waits of 30, 60 and 120 ms (210 in all); the next one (120, the cap) would pass 300 ms.
    expect(calls).toBe(4);
    expect(waited).toHaveLength(3);
    expect(waited[2]! - waited[1]!).toBeGreaterThanOrEqual(55);
  });

  it('KMS waits are bounded to about 30 s in all', () => {
    expect(kmsConsistency.timeoutMs).toBeLessThanOrEqual(30_000);
    expect(kmsConsistency.maxDelayMs).toBeGreaterThan(kmsConsistency.delayMs);
  });
});

describe('consistency predicates', () => {
  it.each([
    [error('NotFoundException', "Key 'arn:aws:kms:eu-west-1:123456789012:key/k' does not exist"), true],
    [error('KMSInvalidStateException', 'arn:aws:kms:eu-west-1:123456789012:key/k is pending import.'), true],
    [error('AccessDeniedException', 'not authorized'), false],
    [error('AlreadyExistsException', 'alias exists'), false],
    [error('UnsupportedOperationException', 'origin is EXTERNAL'), false],
  ])('KMS has not caught up with a new key: %s → %s', (err, expected) => {
    expect(kmsKeyNotYetVisible(err)).toBe(expected);
  });

  it.each([
    [
      error(
        'AccessDeniedException',
        "The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:eu-west-1:123456789012:log-group:/g'",
      ),
      true,
    ],
    [error('InvalidParameterException', "The specified KMS Key Id could not be found. '/aws/ssm/session-logs'"), true],
    [error('InvalidParameterException', 'Unable to validate if specified KMS key is valid.'), true],
    [error('AccessDeniedException', 'User is not authorized to perform: logs:CreateLogGroup'), false],
    [error('InvalidParameterException', '31 is not a valid retention in days'), false],
    [error('ResourceAlreadyExistsException', 'The specified log group already exists'), false],
  ])('CloudWatch Logs cannot use the key yet: %s → %s', (err, expected) => {
    expect(logsKeyNotYetUsable(err)).toBe(expected);
  });

  it('the instance-profile predicate is not confused with the KMS ones', () => {
    expect(profileNotYetVisible(error('NotFoundException'))).toBe(false);
    expect(kmsKeyNotYetVisible(error('InvalidParameterValue', 'Invalid IAM Instance Profile name'))).toBe(false);
  });
});
