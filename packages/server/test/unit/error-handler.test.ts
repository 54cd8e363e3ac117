import { describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  InvalidBlobKeyError,
  RecordExistsError,
  SessionNotRunningError,
  WriteConflictError,
} from '../../src/domain/errors.js';
import { toApiError } from '../../src/http/error-handler.js';

describe('store and blob errors become clear HTTP errors, never a bare 500', () => {
  it('a lost write race is a retryable 409', () => {
    const e = toApiError(new WriteConflictError('Admitting the session'));
    expect(e).toMatchObject({ status: 409, code: 'write_conflict', headers: { 'x-should-retry': 'true' } });
    expect(e.message).toMatch(/Retry the request/);
  });

  it('other conflicts are 409s not worth retrying', () => {
    expect(toApiError(new RecordExistsError('project', 'p1'))).toMatchObject({
      status: 409,
      code: 'already_exists',
      headers: { 'x-should-retry': 'false' },
    });
    expect(toApiError(new SessionNotRunningError('s', 'COMPLETED')).headers).toEqual({ 'x-should-retry': 'false' });
  });

  it('a corrupt record is a 500 that says what is wrong with which record', () => {
    const e = toApiError(new CorruptRecordError('session', 's1', 'region: invalid option'));
    expect(e).toMatchObject({ status: 500, code: 'corrupt_record' });
    expect(e.message).toMatch(/session s1 is corrupt \(region: invalid option\)/);
  });

  it('a bad blob key is a 400', () => {
    expect(toApiError(new InvalidBlobKeyError('../x', 'no'))).toMatchObject({ status: 400, code: 'invalid_blob_key' });
  });
});
