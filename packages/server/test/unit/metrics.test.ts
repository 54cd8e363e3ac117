import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '@wallcrawler/test-support';
import { expect, it } from 'vitest';
import type { SessionRecord } from '../../src/domain/model.js';
import { ServerMetrics } from '../../src/metrics.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A server's metrics over a store of its own; only weak references leave this function. */
async function serverMetrics(): Promise<{ metrics: WeakRef<ServerMetrics>; store: WeakRef<object> }> {
  const store = { listActiveSessions: async (): Promise<SessionRecord[]> => [] };
  const metrics = new ServerMetrics({ activeSessions: () => store.listActiveSessions() });
  const text = await metrics.registry.metrics();
  expect(text).toContain('wallcrawler_sessions{status="RUNNING"} 0');
  expect(text).toContain('wallcrawler_process_resident_memory_bytes');
  expect(text).toContain('wallcrawler_nodejs_gc_duration_seconds');
  return { metrics: new WeakRef(metrics), store: new WeakRef(store) };
}

it("lets a closed server's metrics, and what their gauges read, be collected; each still reports the process", async () => {
  // Two servers in one process: both report the process's figures (prom-client's are collected once).
  const first = await serverMetrics();
  const second = await serverMetrics();
  // prom-client's GC observer and event-loop histogram never stop: a registry they held would live for good.
  await waitFor(
    () => {
      gc();
      return [first, second].every((m) => m.metrics.deref() === undefined && m.store.deref() === undefined);
    },
    { timeout: 5_000, message: 'the dropped metrics and their store to be garbage-collected' },
  );
});
