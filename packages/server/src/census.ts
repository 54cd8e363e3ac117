/**
 * What the server holds in memory for sessions and requests, counted: each map, cache and queue that grows with
 * sessions registers a counter here. With no session running, each count must come back to where it was; the
 * leak check (`npm run leakcheck`) holds the server to that.
 */
export class Census {
  readonly #counters = new Map<string, () => number>();

  /** Registers `count` under `name` (a later registration under the same name replaces it). */
  add(name: string, count: () => number): void {
    this.#counters.set(name, count);
  }

  /** Every count, now. */
  read(): Record<string, number> {
    return Object.fromEntries([...this.#counters].map(([name, count]) => [name, count()]));
  }
}
