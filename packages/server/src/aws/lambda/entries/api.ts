/**
 * Bundle entry of the API function: `dist/lambda/api/index.cjs`, handler `index.handler`. Marked with Lambda's
 * `awslambda.streamifyResponse` when the module loads, which is how the runtime knows to hand it a response
 * stream (API Gateway invokes it with `InvokeWithResponseStream`).
 */
import { apiHandler } from '../handlers.js';

const runtime = globalThis.awslambda;
if (!runtime?.streamifyResponse) {
  throw new Error("The API function runs in Lambda's Node.js runtime: there is no awslambda.streamifyResponse here.");
}
export const handler = runtime.streamifyResponse(apiHandler);
