import { liveBrowsers } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { beforeAll, describe, expect, it } from 'vitest';
import { onlyThePoolLeft, poolFigures, poolFilled } from '../support/pool.js';

/**
 * A storm on the warm pool: 30 concurrent creates on a host that runs 3 browsers, idle ones included. A load test:
 * it runs in the `storms` project, alone, never beside other browser-heavy files (docs/testing.md).
 */

describe('the pool within the host limit', () => {
  const MAX = 3;
  const t = useTestServer({
    WALLCRAWLER_POOL_SIZE: '2',
    WALLCRAWLER_MAX_SESSIONS: String(MAX),
    WALLCRAWLER_QUEUE_SIZE: '100',
    // Every create must get a slot: on a starved 2-core host ten rounds of 3 browser starts can take longer than
    // the default 30 s queue wait, and a 429 here would be the host's speed, not the pool's limit.
    WALLCRAWLER_QUEUE_TIMEOUT_MS: '150000',
  });

  beforeAll(async () => {
    await poolFilled(t, 2);
  });

  it('never runs more browsers than the limit, idle ones included, and ends where it began', async () => {
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, liveBrowsers(t.dataDir).size);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const headers = { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' };
    // Every third session wants another viewport: browsers of the pool make way for it within the same limit.
    const bodies = ['{}', '{}', JSON.stringify({ browserSettings: { viewport: { width: 800, height: 600 } } })];
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers, body: bodies[i % 3] });
        const body = (await response.json()) as { id: string; message?: string };
        const { id } = body;
        if (response.status !== 201) return `${response.status} ${body.message}`;
        if (response.status === 201) {
          const released = await fetch(`${t.url}/v1/sessions/${id}`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
          });
          expect(released.status).toBe(200);
        }
        return response.status;
      }),
    );
    sampling = false;
    await sampler;
    expect(statuses).toEqual(Array(30).fill(201));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(MAX);
    expect(await t.store.listActiveSessions()).toEqual([]);
    const figures = await poolFigures(t);
    expect((figures.hit ?? 0) + (figures.empty ?? 0) + (figures.viewport ?? 0)).toBe(30);
    expect(figures.hit).toBeGreaterThanOrEqual(2);
    await poolFilled(t, 2);
    await onlyThePoolLeft(t.dataDir, 2);
  }, 180_000);
});
