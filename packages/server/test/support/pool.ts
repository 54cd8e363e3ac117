/** What the warm pool's tests read of a server's pool: its figures from `/metrics`, and waits on them. */
import { onlyPoolBrowsersLeft, waitFor } from '@wallcrawler/test-support';
import { metricSample as sample, type TestServer } from '@wallcrawler/test-support/test-server';

const scrape = async (t: TestServer) => {
  const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.apiKey}` } });
  return response.text();
};

/** The pool's gauges and take counters, as Prometheus would scrape them. */
export const poolFigures = async (t: TestServer) => {
  const text = await scrape(t);
  return {
    idle: sample(text, 'wallcrawler_pool_browsers{state="idle"}'),
    target: sample(text, 'wallcrawler_pool_browsers{state="target"}'),
    hit: sample(text, 'wallcrawler_pool_takes_total{result="hit"}'),
    empty: sample(text, 'wallcrawler_pool_takes_total{result="miss_empty"}'),
    unfit: sample(text, 'wallcrawler_pool_takes_total{result="miss_unfit"}'),
    viewport: sample(text, 'wallcrawler_pool_takes_total{result="miss_viewport"}'),
  };
};

/** Waits until the pool holds `idle` idle browsers. */
export const poolFilled = (t: TestServer, idle: number) =>
  waitFor(async () => (await poolFigures(t)).idle === idle, { timeout: 30_000, message: `${idle} idle browsers` });

/** Waits until only the pool's `idle` idle browsers are left under `dataDir`. */
export const onlyThePoolLeft = (dataDir: string, idle: number) =>
  waitFor(() => onlyPoolBrowsersLeft(dataDir, idle), {
    timeout: 15_000,
    message: `only the pool's ${idle} idle browsers to be left`,
  });
