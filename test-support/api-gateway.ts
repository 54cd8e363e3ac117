/**
 * A small stand-in for API Gateway's HTTP API in front of a Lambda function: each HTTP request becomes a
 * payload-2.0 event (the shape API Gateway sends), the handler's result becomes the HTTP response, and the
 * integration timeout applies (29 s: past it API Gateway answers 503 and drops the Lambda's late answer).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiGatewayV2Result {
  statusCode: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

export type LambdaHttpHandler = (event: Record<string, unknown>, context: Record<string, unknown>) => Promise<unknown>;

export interface ApiGateway {
  url: string;
  /** How many requests hit the integration timeout. */
  timeouts(): number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The payload-2.0 event API Gateway builds for `request`. */
export function toApiGatewayV2Event(
  request: IncomingMessage,
  body: Buffer,
  domainName: string,
): Record<string, unknown> {
  const url = new URL(request.url ?? '/', `http://${domainName}`);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = String(value).split(/;\s*/);
    // API Gateway joins repeated headers with commas.
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const now = new Date();
  const textual = /json|text|xml|form-urlencoded/.test(headers['content-type'] ?? '') || body.length === 0;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

export async function startApiGateway(
  handler: LambdaHttpHandler,
  { integrationTimeoutMs = 29_000, port: wanted = 0 }: { integrationTimeoutMs?: number; port?: number } = {},
): Promise<ApiGateway> {
  let timeouts = 0;
  let domainName = '127.0.0.1';
  const server = createServer(async (request, response) => {
    const event = toApiGatewayV2Event(request, await readBody(request), domainName);
    const context = {
      awsRequestId: randomUUID(),
      functionName: 'wallcrawler-api',
      getRemainingTimeInMillis: () => integrationTimeoutMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), integrationTimeoutMs);
    });
    try {
      const result = await Promise.race([handler(event, context), timedOut]);
      if (result === 'timeout') {
        timeouts++;
        response.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
        return;
      }
      const r = result as ApiGatewayV2Result;
      const headers: Record<string, string | string[]> = { ...r.headers };
      for (const [name, values] of Object.entries(r.multiValueHeaders ?? {})) headers[name] = values;
      if (r.cookies?.length) headers['set-cookie'] = r.cookies;
      response.writeHead(r.statusCode, headers);
      response.end(r.body === undefined ? undefined : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8'));
    } catch (error) {
      // A function error: API Gateway answers 500 with its own body.
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      process.emitWarning(`the Lambda handler threw: ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  });
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
