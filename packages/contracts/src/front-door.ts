/**
 * What the stack's front door (API Gateway's REST API) answers itself when the API function gives no answer of its
 * own (it failed, or gave no prelude, or timed out before its first byte): the one error body, as a 503 with
 * `Retry-After`, never API Gateway's bare `{"message": ...}`. The stack writes it as the REST API's `DEFAULT_5XX`
 * gateway response; the local stand-in of the front door answers the same.
 */
export const FRONT_DOOR_FAILURE = {
  statusCode: 503,
  error: 'Service Unavailable',
  code: 'api_unavailable',
  retryAfterSeconds: 5,
} as const;

/** The body of `FRONT_DOOR_FAILURE`, for API Gateway's `message` and `requestId`. */
export function frontDoorFailureBody(message: string, requestId: string): Record<string, string | number> {
  const { retryAfterSeconds: _, ...fields } = FRONT_DOOR_FAILURE;
  return { ...fields, message, requestId };
}
