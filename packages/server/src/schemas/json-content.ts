/** The `content` of a JSON request or response body in a route definition. */
export function jsonContent<T>(schema: T) {
  return { 'application/json': { schema } };
}
