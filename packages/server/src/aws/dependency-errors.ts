import { DependencyUnavailableError } from '../domain/errors.js';

/** Seconds a client is told to wait after a dependency failed. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** Socket errors that mean the service was not reached (or the connection broke on the way). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** Errors a service answers when it is overloaded, after the SDK's own retries. */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

interface SdkError {
  name?: string;
  code?: string;
  /** An `AggregateError`'s parts (a connection tried on several addresses). */
  errors?: SdkError[];
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/**
 * Whether `error`, thrown by an AWS SDK call, means the service was unreachable (no HTTP answer at all: refused,
 * timed out, no credentials) or, with `answered`, that it answered with a fault of its own (5xx, throttling).
 */
export function isUnavailable(error: unknown, { answered }: { answered: boolean }): boolean {
  const e = (error ?? {}) as SdkError;
  const unreached = (x: SdkError) =>
    NETWORK_CODES.has(x.code ?? '') || x.name === 'TimeoutError' || x.name === 'CredentialsProviderError';
  if (unreached(e) || e.errors?.some(unreached)) return true;
  return answered && (e.$fault === 'server' || THROTTLING_NAMES.has(e.name ?? ''));
}

// Each client's middleware types name its own commands' inputs and outputs; this one passes them through.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Handler = (args: any) => Promise<any>;

/** A client of the AWS SDK v3: what `reportUnavailable` needs of it. */
export interface MiddlewareClient {
  middlewareStack: { add(middleware: (next: Handler) => Handler, options: { step: 'initialize'; name: string }): void };
}

/**
 * Makes `client` throw `DependencyUnavailableError` (a 503 with `Retry-After`, in the one error body) when its
 * service cannot be reached, and, with `answered: true`, when it answers with a fault of its own. Other errors
 * (a failed condition, a missing item, a refused permission) pass through as they are, for the caller to read.
 * The step is `initialize`, the outermost: the error is the one left after the SDK's own retries.
 */
export function reportUnavailable<C extends MiddlewareClient>(
  client: C,
  service: string,
  { answered }: { answered: boolean },
): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (!isUnavailable(error, { answered })) throw error;
        throw new DependencyUnavailableError(
          `${service} could not be reached or failed (${(error as Error).name}). Retry the request.`,
          DEPENDENCY_RETRY_AFTER_SECONDS,
          { cause: error },
        );
      }
    },
    { step: 'initialize', name: 'wallcrawlerDependencyUnavailable' },
  );
  return client;
}
