import type { Client } from 'openapi-fetch';
import { WallcrawlerError } from '../errors.js';
import type { paths } from '../generated/openapi.js';
import type { RequestOptions } from '../transport.js';

/** The openapi-fetch options that carry one resource call's {@link RequestOptions}. */
// A type alias, not an interface: openapi-fetch's init has an index signature only aliases satisfy.
export type CallOptions = {
  /** Sends through the retrying transport and throws `APIError` on a non-2xx response. */
  fetch: (request: Request) => Promise<Response>;
  headers: RequestOptions['headers'];
};

/** What a resource needs from its client. */
export interface APIContext {
  /** The typed openapi-fetch client, with the client's base URL and headers. */
  readonly raw: Client<paths>;
  callOptions(options: RequestOptions | undefined): CallOptions;
}

/**
 * The body of a successful call. Non-2xx responses never get here (`callOptions` throws them); anything else that
 * goes wrong, such as a 2xx whose body is missing or not JSON, becomes a `WallcrawlerError` too.
 */
export async function expectData<T>(pending: Promise<{ data?: T; response: Response }>): Promise<T> {
  let result: { data?: T; response: Response };
  try {
    result = await pending;
  } catch (error) {
    if (error instanceof WallcrawlerError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new WallcrawlerError(`Could not read the response: ${detail}`, { cause: error });
  }
  if (result.data === undefined) {
    throw new WallcrawlerError(`Expected a JSON body in the ${result.response.status} response.`);
  }
  return result.data;
}
