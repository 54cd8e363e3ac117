import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../src/aws/dependency-errors.js';
import { keptOnSuccess } from '../../src/aws/lambda/connect-secret.js';

const sdkError = (name: string, fault: 'client' | 'server', status: number) =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('which AWS SDK errors mean a dependency is unavailable', () => {
  it('counts a service that was not reached, whether or not faults count', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const everyAddress = Object.assign(new AggregateError([refused]), { code: undefined });
    for (const error of [refused, everyAddress, Object.assign(new Error('slow'), { name: 'TimeoutError' })]) {
      expect(isUnavailable(error, { answered: false })).toBe(true);
      expect(isUnavailable(error, { answered: true })).toBe(true);
    }
  });

  it("counts a service's own faults and throttling only when asked to", () => {
    for (const error of [
      sdkError('InternalServerError', 'server', 500),
      sdkError('ThrottlingException', 'client', 400),
    ]) {
      expect(isUnavailable(error, { answered: true })).toBe(true);
      expect(isUnavailable(error, { answered: false })).toBe(false);
    }
  });

  it('leaves what the caller reads alone: a failed condition, a missing table, a refused permission, a bug', () => {
    for (const error of [
      sdkError('ConditionalCheckFailedException', 'client', 400),
      sdkError('ResourceNotFoundException', 'client', 400),
      sdkError('AccessDeniedException', 'client', 400),
      new TypeError('x is undefined'),
      undefined,
    ]) {
      expect(isUnavailable(error, { answered: true })).toBe(false);
    }
  });
});

describe('keptOnSuccess', () => {
  it('loads once while it succeeds, and again after a failure', async () => {
    let calls = 0;
    const load = keptOnSuccess(async () => {
      calls++;
      if (calls === 1) throw new Error('unreachable');
      return calls;
    });
    await expect(load()).rejects.toThrow('unreachable');
    expect(await Promise.all([load(), load()])).toEqual([2, 2]);
    expect(await load()).toBe(2);
    expect(calls).toBe(2);
  });
});
