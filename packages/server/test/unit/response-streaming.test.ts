import { silentLogger } from '@wallcrawler/contracts';
import { installAwsLambdaGlobal, LambdaResponseStream } from '@wallcrawler/test-support/lambda-streaming';
import { describe, expect, it } from 'vitest';
import { writeResponse } from '../../src/aws/lambda/response-streaming.js';

installAwsLambdaGlobal();

describe("writing an answer to Lambda's response stream", () => {
  it('stops, and cancels the body, when the stream is gone half-way (the client went away)', async () => {
    let cancelled = false;
    // An endless body: only a cancel ends it.
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
      cancel: () => {
        cancelled = true;
      },
    });
    const stream = new LambdaResponseStream();
    // Nobody reads the stream: it fills up, and the writer waits for room, which never comes.
    const writing = writeResponse(new Response(body), stream, silentLogger);
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy();
    await writing;
    expect(cancelled).toBe(true);
  });
});
