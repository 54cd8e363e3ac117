/**
 * The local stand-in of the stack's front door answers what the function does not as the stack's front door does:
 * a failed function is API Gateway's gateway response (the one error body), a silent one CloudFront's timeout.
 */
import { startApiGateway } from '@wallcrawler/test-support/api-gateway';
import { awsLambdaGlobal, type StreamingLambdaHandler } from '@wallcrawler/test-support/lambda-streaming';
import { describe, expect, it } from 'vitest';

const streaming = (fn: StreamingLambdaHandler) => awsLambdaGlobal.streamifyResponse(fn);

async function answerOf(handler: StreamingLambdaHandler, limits = {}) {
  const gateway = await startApiGateway(streaming(handler), limits);
  try {
    const response = await fetch(`${gateway.url}/v1/sessions?q=1`, { method: 'POST', body: 'a\u0000b' });
    return { status: response.status, headers: response.headers, text: await response.text(), gateway };
  } finally {
    await gateway.close();
  }
}

describe('the front door stand-in', () => {
  it('gives the function a REST API event and passes on its prelude and body', async () => {
    let event: Record<string, unknown> = {};
    const answer = await answerOf(async (e, stream) => {
      event = e;
      const out = awsLambdaGlobal.HttpResponseStream.from(stream, {
        statusCode: 201,
        headers: { 'content-type': 'text/plain' },
        cookies: ['a=1', 'b=2'],
      });
      out.write('hello ');
      out.end('world');
    });
    expect(answer).toMatchObject({ status: 201, text: 'hello world' });
    expect(answer.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(event).toMatchObject({
      httpMethod: 'POST',
      path: '/v1/sessions',
      resource: '/{proxy+}',
      multiValueQueryStringParameters: { q: ['1'] },
      isBase64Encoded: true,
      body: Buffer.from('a\u0000b').toString('base64'),
      requestContext: { stage: 'prod', path: '/prod/v1/sessions' },
    });
  });

  it("answers a function that throws, or writes no prelude, with API Gateway's gateway response", async () => {
    const thrown = await answerOf(async () => {
      throw new Error('boom');
    });
    const noPrelude = await answerOf(async (_event, stream) => {
      stream.end('{"statusCode":200}');
    });
    for (const answer of [thrown, noPrelude]) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(answer.text)).toMatchObject({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'api_unavailable',
        message: 'Internal server error',
        requestId: expect.any(String),
      });
    }
  });

  it("answers a function silent past the edge's wait with CloudFront's 504, and counts it", async () => {
    let release = () => {};
    const answer = await answerOf(
      (_event, stream) =>
        new Promise<void>((resolve) => {
          release = () => {
            stream.end();
            resolve();
          };
        }),
      { responseTimeoutMs: 200 },
    );
    release();
    expect(answer.status).toBe(504);
    expect(answer.text).toContain('504 Gateway Timeout');
    expect(answer.gateway.timeouts()).toBe(1);
  });
});
