import { WallcrawlerError } from './errors.js';

// setTimeout fires at once (with a warning in Node) for delays past 2^31 - 1 ms.
const MAX_TIMER_MS = 2_147_483_647;

/** Throws unless `value` is a whole number of retries, 0 or more. */
export function checkMaxRetries(value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new WallcrawlerError(`maxRetries must be a whole number, 0 or more; got ${value}.`);
  }
  return value;
}

/** Throws unless `value` is a usable timeout in milliseconds. */
export function checkTimeout(value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new WallcrawlerError(`timeout must be a number of milliseconds between 1 and ${MAX_TIMER_MS}; got ${value}.`);
  }
  return value;
}
