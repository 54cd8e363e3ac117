import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './generated/openapi.js';

type CreateClient = typeof createClient;

// openapi-fetch's CommonJS build exports its factory as `exports.default`. Our CJS build imports it with Node's
// interop (this package is "type": "module"), which hands over the whole `exports` object instead.
const create: CreateClient =
  typeof createClient === 'function' ? createClient : (createClient as unknown as { default: CreateClient }).default;

/** The typed openapi-fetch client for the Wallcrawler API. */
export function createRawClient(options: ClientOptions): Client<paths> {
  return create<paths>(options);
}
