/**
 * A small stand-in for the stack's front door, CloudFront in front of API Gateway's REST API, whose Lambda proxy
 * integration streams (response transfer mode `STREAM`):
 * - each HTTP request becomes a REST API proxy event (payload 1.0; every body base64, as the stack's binary
 *   media type `*\/*` makes it), and the function is invoked as `InvokeWithResponseStream` invokes it: with a
 *   response stream of Lambda's runtime (`lambda-streaming.ts`);
 * - the prelude the function writes (status, headers, cookies, then 8 NUL bytes) becomes the status line and
 *   headers, and each chunk after it is written to the client as it comes;
 * - the limits apply: CloudFront's origin response timeout (60 s in the stack) for the first byte and between
 *   bytes, API Gateway's idle timeout (5 min) and its streaming limit (15 min). Tests lower them.
 * What the front door answers itself is as the stack configures it: a function error or a stream without a
 * prelude is API Gateway's `DEFAULT_5XX` gateway response (the one error body, 503, `Retry-After`); a timeout
 * before the first byte is CloudFront's own 504 page; after the first byte the connection is cut.
 *
 * Importing this module gives the process the `awslambda` global, so the server's Lambda handlers can be built.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FRONT_DOOR_FAILURE, frontDoorFailureBody } from '@wallcrawler/contracts';
import {
  HTTP_INTEGRATION_RESPONSE,
  type HttpResponsePrelude,
  installAwsLambdaGlobal,
  isStreamingHandler,
  LambdaResponseStream,
  PRELUDE_DELIMITER,
  type StreamingLambdaHandler,
} from './lambda-streaming.js';

installAwsLambdaGlobal();

/** A function wrapped in `awslambda.streamifyResponse`: what the REST API's `STREAM` integration invokes. */
export type LambdaHttpHandler = StreamingLambdaHandler;

export interface FrontDoorLimits {
  /** CloudFront's origin response timeout: for the first byte, and between bytes. @default 60_000 */
  responseTimeoutMs?: number;
  /** API Gateway's idle timeout of a streamed response (regional endpoint). @default 300_000 */
  idleTimeoutMs?: number;
  /** API Gateway's limit of a streamed response, from the request. @default 900_000 */
  streamLimitMs?: number;
}

export interface ApiGateway {
  url: string;
  /** How many requests hit one of the limits. */
  timeouts(): number;
  close(): Promise<void>;
}

const STAGE = 'prod';

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The REST API proxy event (payload 1.0) API Gateway builds for `request`, with the headers CloudFront adds. */
export function toRestApiEvent(
  request: IncomingMessage,
  body: Buffer,
  domainName: string,
  /** Headers CloudFront adds for its origin, replacing the client's. */
  originHeaders: Record<string, string> = {},
): Record<string, unknown> {
  const url = new URL(request.url ?? '/', `http://${domainName}`);
  const multiValueHeaders: Record<string, string[]> = {
    'x-forwarded-for': [request.socket.remoteAddress ?? '127.0.0.1'],
    'x-forwarded-proto': ['https'],
    'x-amzn-trace-id': [`Root=1-${randomUUID().replaceAll('-', '').slice(0, 24)}`],
  };
  for (const [name, values] of Object.entries(request.headersDistinct)) if (values) multiValueHeaders[name] = values;
  for (const [name, value] of Object.entries(originHeaders)) multiValueHeaders[name.toLowerCase()] = [value];
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, v]) => [name, v.at(-1) ?? '']));
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value];
  const query = Object.fromEntries(Object.entries(multiValueQuery).map(([name, v]) => [name, v.at(-1) ?? '']));
  const now = new Date();
  const proxy = url.pathname !== '/';
  const requestId = randomUUID();
  return {
    resource: proxy ? '/{proxy+}' : '/',
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: url.search ? query : null,
    multiValueQueryStringParameters: url.search ? multiValueQuery : null,
    pathParameters: proxy ? { proxy: url.pathname.slice(1) } : null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      resourceId: 'local',
      resourcePath: proxy ? '/{proxy+}' : '/',
      httpMethod: request.method ?? 'GET',
      path: `/${STAGE}${url.pathname}`,
      stage: STAGE,
      protocol: `HTTP/${request.httpVersion}`,
      domainName,
      domainPrefix: domainName.split('.')[0],
      requestId,
      extendedRequestId: requestId,
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      identity: { sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? null },
    },
    // The stack's binary media type `*/*`: every body reaches the function base64-encoded.
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
  };
}

const bare = (response: ServerResponse, status: number, type: string, body: string) => {
  if (!response.headersSent && !response.destroyed) response.writeHead(status, { 'content-type': type }).end(body);
};

/** API Gateway's `DEFAULT_5XX` gateway response, as the stack configures it. */
const gatewayFailure = (response: ServerResponse, requestId: string) => {
  if (response.headersSent || response.destroyed) return;
  response
    .writeHead(FRONT_DOOR_FAILURE.statusCode, {
      'content-type': 'application/json',
      'retry-after': String(FRONT_DOOR_FAILURE.retryAfterSeconds),
    })
    .end(JSON.stringify(frontDoorFailureBody('Internal server error', requestId)));
};

/** CloudFront's own page for an origin that did not answer in time. */
const CLOUDFRONT_TIMEOUT_PAGE =
  '<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY><H1>504 Gateway Timeout ERROR</H1></BODY></HTML>';

/**
 * Serves `handler` (a streaming function: `awslambda.streamifyResponse(fn)`) on a loopback port (`port`, or any
 * free one), behind the front door's limits.
 */
export async function startApiGateway(
  handler: LambdaHttpHandler,
  limits: FrontDoorLimits = {},
  {
    port: wanted = 0,
    originHeaders = {},
  }: {
    port?: number;
    /** Headers added to every request, replacing the client's: CloudFront's origin custom headers, when this
     * stand-in is the only front (no TLS front before it). */
    originHeaders?: Record<string, string>;
  } = {},
): Promise<ApiGateway> {
  if (!isStreamingHandler(handler)) {
    throw new Error('The REST API streams: give it a handler wrapped in awslambda.streamifyResponse.');
  }
  const { responseTimeoutMs = 60_000, idleTimeoutMs = 300_000, streamLimitMs = 900_000 } = limits;
  let timeouts = 0;
  let domainName = '127.0.0.1';
  const server = createServer(async (request, response) => {
    const event = toRestApiEvent(request, await readBody(request), domainName, originHeaders);
    const requestId = String((event.requestContext as { requestId: string }).requestId);
    const started = Date.now();
    const context = {
      awsRequestId: randomUUID(),
      functionName: 'wallcrawler-api',
      getRemainingTimeInMillis: () => streamLimitMs - (Date.now() - started),
    };
    const stream = new LambdaResponseStream();
    let pending = Buffer.alloc(0);
    let prelude = false;
    let timer: NodeJS.Timeout | undefined;
    // Armed at the request and again at each chunk: the nearer of the edge's wait and API Gateway's limits. Before
    // the first byte, the edge answers its own page, API Gateway its gateway response; after it, the cut is all.
    const arm = () => {
      clearTimeout(timer);
      const gateway = Math.min(idleTimeoutMs, streamLimitMs - (Date.now() - started));
      const edgeFirst = responseTimeoutMs <= gateway;
      timer = setTimeout(
        () => {
          timeouts++;
          if (response.headersSent) response.destroy();
          else if (edgeFirst) bare(response, 504, 'text/html', CLOUDFRONT_TIMEOUT_PAGE);
          else gatewayFailure(response, requestId);
          stream.destroy();
        },
        edgeFirst ? responseTimeoutMs : gateway,
      );
    };
    arm();
    response.on('close', () => clearTimeout(timer));
    stream.on('data', (chunk: Buffer) => {
      if (response.destroyed) return;
      arm();
      if (prelude) {
        response.write(chunk);
        return;
      }
      if (stream.contentType !== HTTP_INTEGRATION_RESPONSE) {
        gatewayFailure(response, requestId);
        stream.destroy();
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf(PRELUDE_DELIMITER);
      if (end < 0) return;
      const meta = JSON.parse(pending.subarray(0, end).toString('utf8')) as HttpResponsePrelude;
      const headers: Record<string, string | string[]> = { ...meta.headers };
      for (const [name, values] of Object.entries(meta.multiValueHeaders ?? {})) headers[name] = values;
      if (meta.cookies?.length) headers['set-cookie'] = meta.cookies;
      prelude = true;
      response.writeHead(meta.statusCode ?? 200, headers);
      const rest = pending.subarray(end + PRELUDE_DELIMITER.length);
      if (rest.length) response.write(rest);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      if (prelude) response.end();
      else gatewayFailure(response, requestId);
    });
    try {
      await handler(event, stream, context);
    } catch (error) {
      // A function error: before the prelude, API Gateway's gateway response; after it, the stream is cut.
      process.emitWarning(`the Lambda handler threw: ${String(error)}`);
      clearTimeout(timer);
      if (prelude) response.destroy();
      else gatewayFailure(response, requestId);
      stream.destroy();
    }
  });
  // A taken port is the caller's error to report (`npm run aws:local` says which port), not a crash.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  domainName = `127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    timeouts: () => timeouts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
