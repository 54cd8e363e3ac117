/**
 * Lambda's response streaming, as its Node.js runtime offers it to a function, for running a function here:
 * the `awslambda` global with `streamifyResponse` (which marks a handler as streaming) and
 * `HttpResponseStream.from` (which sets the stream's content type to the HTTP integration response and sends a
 * prelude, the JSON of the status, headers and cookies followed by 8 NUL bytes, just before the first write).
 * What a function writes comes out of the stream's readable side, as it is written.
 */
import { PassThrough } from 'node:stream';

/** The marker Lambda's runtime reads to invoke a handler with a response stream. */
export const STREAMING_HANDLER = Symbol.for('aws.lambda.runtime.handler.streaming');

/** The content type `HttpResponseStream.from` gives the stream; API Gateway reads a prelude from such a stream. */
export const HTTP_INTEGRATION_RESPONSE = 'application/vnd.awslambda.http-integration-response';

/** Between the prelude's JSON and the body. */
export const PRELUDE_DELIMITER = Buffer.alloc(8);

export interface HttpResponsePrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

/** The stream a streaming handler writes its answer to; the front door reads it. */
export class LambdaResponseStream extends PassThrough {
  contentType = 'application/octet-stream';
  #beforeFirstWrite: (() => void) | undefined;

  setContentType(type: string): void {
    this.contentType = type;
  }

  /** Runs `hook` (once) just before the first chunk is written. */
  beforeFirstWrite(hook: () => void): void {
    this.#beforeFirstWrite = hook;
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const hook = this.#beforeFirstWrite;
    this.#beforeFirstWrite = undefined;
    hook?.();
    return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }
}

export type StreamingLambdaHandler = (
  event: Record<string, unknown>,
  responseStream: LambdaResponseStream,
  context: Record<string, unknown>,
) => Promise<unknown>;

export interface AwsLambdaGlobal {
  streamifyResponse<H>(handler: H): H;
  HttpResponseStream: { from(stream: LambdaResponseStream, prelude: HttpResponsePrelude): LambdaResponseStream };
}

export const awsLambdaGlobal: AwsLambdaGlobal = {
  streamifyResponse(handler) {
    (handler as Record<symbol, unknown>)[STREAMING_HANDLER] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream, prelude) {
      stream.setContentType(HTTP_INTEGRATION_RESPONSE);
      const json = JSON.stringify(prelude);
      stream.beforeFirstWrite(() => {
        stream.write(json);
        stream.write(PRELUDE_DELIMITER);
      });
      return stream;
    },
  },
};

/** Whether Lambda would invoke `handler` with a response stream. */
export function isStreamingHandler(handler: unknown): handler is StreamingLambdaHandler {
  return (
    typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING_HANDLER] === 'response'
  );
}

/**
 * Gives this process the `awslambda` global's streaming API, as Lambda's Node.js runtime does, unless it has it.
 * (The AWS SDK puts an `awslambda` object of its own there for its invoke store: this adds to it.)
 */
export function installAwsLambdaGlobal(): void {
  const g = globalThis as { awslambda?: Partial<AwsLambdaGlobal> };
  g.awslambda ??= {};
  g.awslambda.streamifyResponse ??= awsLambdaGlobal.streamifyResponse;
  g.awslambda.HttpResponseStream ??= awsLambdaGlobal.HttpResponseStream;
}
