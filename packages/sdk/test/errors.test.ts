import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  Wallcrawler,
  WallcrawlerError,
} from '../src/index.js';
import { errorBody, fakeFetch, json, testClient } from './fake-fetch.js';

describe('APIError.generate', () => {
  it.each([
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
    [413, PayloadTooLargeError],
    [422, UnprocessableEntityError],
    [429, RateLimitError],
    [500, InternalServerError],
    [502, InternalServerError],
    [503, InternalServerError],
    [504, InternalServerError],
  ])('maps %i to %o', (status, ErrorClass) => {
    const error = APIError.generate(status, JSON.stringify(errorBody(status, 'boom')), {});
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(WallcrawlerError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(ErrorClass.name);
    expect(error.status).toBe(status);
  });

  it.each([402, 405, 408, 415, 418])('keeps %i a plain APIError', (status) => {
    const error = APIError.generate(status, '', {});
    expect(error.constructor).toBe(APIError);
    expect(error.name).toBe('APIError');
  });

  it('formats "<status> <message>" from a JSON body and exposes its fields', () => {
    const body = {
      ...errorBody(404, 'Session sess_1 not found', 'session_not_found'),
      details: [{ path: 'params.id', message: 'unknown' }],
    };
    const error = APIError.generate(404, JSON.stringify(body), { 'x-request-id': 'req_header' });
    expect(error.message).toBe('404 Session sess_1 not found');
    expect(error.error).toEqual(body);
    expect(error.code).toBe('session_not_found');
    expect(error.requestId).toBe('req_123');
    expect(error.details).toEqual([{ path: 'params.id', message: 'unknown' }]);
    expect(error.headers.get('x-request-id')).toBe('req_header');
  });

  it('accepts an already parsed body', () => {
    const error = APIError.generate(409, errorBody(409, 'Session has ended', 'session_ended'), new Headers());
    expect(error.message).toBe('409 Session has ended');
    expect(error.code).toBe('session_ended');
  });

  it('falls back to the x-request-id header for requestId', () => {
    const error = APIError.generate(500, '{"message":"x"}', { 'x-request-id': 'req_header' });
    expect(error.requestId).toBe('req_header');
    expect(error.code).toBeUndefined();
  });

  it('formats "<status> <raw body>" when the body is not JSON', () => {
    const error = APIError.generate(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' });
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.message).toBe('502 <html>Bad Gateway</html>');
    expect(error.error).toBe('<html>Bad Gateway</html>');
  });

  it('formats "<status> <raw body>" when the JSON has no string message', () => {
    expect(APIError.generate(400, '{"message":{"nested":true},"x":1}', {}).message).toBe(
      '400 {"message":{"nested":true},"x":1}',
    );
    expect(APIError.generate(400, '[1, 2]', {}).message).toBe('400 [1, 2]');
  });

  it('says when there is no body', () => {
    const error = APIError.generate(500, '', {});
    expect(error.message).toBe('500 status code (no body)');
    expect(error.error).toBeUndefined();
  });
});

describe('connection errors', () => {
  it('have no status and keep their cause', () => {
    const cause = new TypeError('fetch failed');
    const error = new APIConnectionError({ cause });
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBeUndefined();
    expect(error.headers).toBeUndefined();
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Connection error.');
    expect(new APIConnectionTimeoutError()).toBeInstanceOf(APIConnectionError);
    expect(new APIConnectionTimeoutError().message).toBe('Request timed out.');
    expect(new APIUserAbortError().message).toBe('Request was aborted.');
  });

  it('are exposed on the client class, as in @browserbasehq/sdk', () => {
    expect(Wallcrawler.NotFoundError).toBe(NotFoundError);
    expect(Wallcrawler.APIConnectionTimeoutError).toBe(APIConnectionTimeoutError);
  });
});

describe('thrown by resources', () => {
  it('throws the status class with the parsed body', async () => {
    const body = errorBody(404, 'No session sess_x in this project', 'session_not_found');
    const { fetch } = fakeFetch(json(body, 404, { 'x-request-id': 'req_123' }));
    const error = await testClient(fetch)
      .sessions.retrieve('sess_x')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      message: '404 No session sess_x in this project',
      code: 'session_not_found',
      requestId: 'req_123',
      error: body,
    });
  });

  it('throws with the raw text of a non-JSON body', async () => {
    const { fetch } = fakeFetch(new Response('Unauthorized', { status: 401 }));
    const error = await testClient(fetch)
      .projects.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toBe('401 Unauthorized');
  });
});
