/**
 * The API's throughput: the authenticated `GET /v1/sessions/{id}` (an API key checked, the session read, its
 * connect token in the answer) against `/health` (no key, no store), each loaded by autocannon with the same
 * connections for the same time, alternating, so both see the same machine.
 */
import autocannon from 'autocannon';
import type { SessionsApi } from './api.js';
import { throwIfAborted } from './cleanup.js';
import { progress } from './progress.js';

export interface Load {
  /** Mean requests per second over the run. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Requests answered with a non-2xx status, or failed. */
  failures: number;
}

export interface HttpResult {
  connections: number;
  durationSeconds: number;
  rounds: number;
  health: Load;
  session: Load;
  /** session rps ÷ health rps: 1 would be free authentication. */
  rpsRatio: number;
  /** session p99 ÷ health p99. */
  p99Ratio: number;
}

function load(url: string, connections: number, duration: number, headers: Record<string, string>): Promise<Load> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, headers }, (error, result) => {
      if (error) return reject(error);
      resolve({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        failures: result.non2xx + result.errors + result.timeouts,
      });
    });
  });
}

const mean = (loads: Load[], key: keyof Load) => loads.reduce((sum, l) => sum + l[key], 0) / loads.length;

export async function runHttp({
  api,
  baseUrl,
  apiKey,
  connections = 50,
  durationSeconds = 5,
  rounds = 2,
}: {
  api: SessionsApi;
  baseUrl: string;
  apiKey: string;
  connections?: number;
  durationSeconds?: number;
  rounds?: number;
}): Promise<HttpResult> {
  const session = await api.create({ keepAlive: true });
  try {
    const health: Load[] = [];
    const sessions: Load[] = [];
    // A short warm-up of each, then alternate so drift hits both.
    await load(`${baseUrl}/health`, connections, 1, {});
    await load(`${baseUrl}/v1/sessions/${session.id}`, connections, 1, { 'x-bb-api-key': apiKey });
    for (let round = 1; round <= rounds; round++) {
      throwIfAborted();
      health.push(await load(`${baseUrl}/health`, connections, durationSeconds, {}));
      sessions.push(
        await load(`${baseUrl}/v1/sessions/${session.id}`, connections, durationSeconds, { 'x-bb-api-key': apiKey }),
      );
      progress(
        'http',
        `round ${round}/${rounds}: /health ${Math.round(health.at(-1)?.rps ?? 0)} req/s, GET /v1/sessions/{id} ${Math.round(sessions.at(-1)?.rps ?? 0)} req/s`,
      );
    }
    const summary = (loads: Load[]): Load => ({
      rps: Math.round(mean(loads, 'rps')),
      p50: mean(loads, 'p50'),
      p99: mean(loads, 'p99'),
      failures: loads.reduce((sum, l) => sum + l.failures, 0),
    });
    const h = summary(health);
    const s = summary(sessions);
    return {
      connections,
      durationSeconds,
      rounds,
      health: h,
      session: s,
      rpsRatio: Math.round((s.rps / h.rps) * 100) / 100,
      p99Ratio: Math.round((s.p99 / Math.max(h.p99, 1)) * 100) / 100,
    };
  } finally {
    await api.release(session.id);
  }
}
