/**
 * Phase 3: CDP round trip (`Browser.getVersion`) through the connect gateway versus straight to the same
 * session's Chromium, with raw `ws` clients; and through the gateway to a second session whose CDP log is off,
 * for what the log costs. 100 warm-up calls per path, then rounds of sequential calls, rotating the path (and
 * which goes first) every round.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sessionDirs } from '@wallcrawler/controller';
import WebSocket from 'ws';
import { releaseOnCleanup, type SessionsApi } from './api.js';
import { onCleanup } from './cleanup.js';
import { progress, sleep } from './progress.js';
import { ratio, type Summary, summarize } from './stats.js';

export interface RttResult {
  callsPerPath: number;
  rounds: number;
  warmups: number;
  /** µs, through the gateway, with the CDP log on (the default). */
  gateway: Summary;
  /** µs, through the gateway to a session created with `logSession: false`. */
  gatewayUnlogged: Summary;
  /** gateway median ÷ gatewayUnlogged median: what the CDP log adds (target ≤ 1.10). */
  ratioLoggingMedian: number;
  ratioLoggingP95: number;
  /** µs */
  direct: Summary;
  /** µs: through a minimal TCP relay in another Node process (a reference for the cost of any extra hop). */
  relay: Summary;
  /** relay median ÷ direct median */
  ratioRelayMedian: number;
  /** gateway median ÷ relay median: what the gateway costs beyond a bare hop. */
  ratioGatewayOverRelayMedian: number;
  ratioMedian: number;
  ratioP95: number;
  ratioP99: number;
  /** Gateway median − direct median, µs. */
  addedMedianUs: number;
  /** Median of each round's median, per path (µs): shows drift between rounds. */
  roundMedians: { gateway: number[]; gatewayUnlogged: number[]; direct: number[]; relay: number[] };
}

class RawCdp {
  #id = 0;
  readonly #pending = new Map<number, (reply: { result?: { product?: string } }) => void>();
  #failed: (error: Error) => void = () => {};
  private constructor(readonly ws: WebSocket) {
    ws.on('close', (code, reason) => this.#failed(new Error(`the WebSocket closed (${code} ${reason})`)));
    ws.on('error', (error) => this.#failed(error));
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id?: number; result?: { product?: string } };
      if (reply.id === undefined) return;
      const resolve = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      resolve?.(reply);
    });
  }

  static open(url: string): Promise<RawCdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
      ws.once('open', () => resolve(new RawCdp(ws)));
      ws.once('error', reject);
    });
  }

  /** One `Browser.getVersion` round trip, in µs. */
  async time(): Promise<number> {
    const id = ++this.#id;
    const t0 = process.hrtime.bigint();
    const reply = await new Promise<{ result?: { product?: string } }>((resolve, reject) => {
      this.#pending.set(id, resolve);
      this.#failed = reject;
      this.ws.send(JSON.stringify({ id, method: 'Browser.getVersion' }));
    });
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (!reply.result?.product) throw new Error(`unexpected reply ${JSON.stringify(reply).slice(0, 200)}`);
    return us;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}

/**
 * `<profile>/DevToolsActivePort`: line 1 the port, line 2 the browser target's path. Chromium writes it a moment
 * after it prints "DevTools listening", so right after a create it may be missing or half-written: wait for it.
 */
export async function directUrl(dataDir: string, sessionId: string): Promise<string> {
  const file = `${sessionDirs(dataDir, sessionId).profile}/DevToolsActivePort`;
  const deadline = performance.now() + 10_000;
  for (;;) {
    let lines: string[] = [];
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {}
    const [port, path] = lines.map((l) => l.trim());
    if (port && /^\d+$/.test(port) && path?.startsWith('/devtools/browser/')) return `ws://127.0.0.1:${port}${path}`;
    if (performance.now() > deadline) throw new Error(`${file} did not appear complete within 10 s`);
    await sleep(20);
  }
}

/**
 * A reference hop: the smallest relay there is (a TCP pipe after the handshake, `setNoDelay` on both sides) in a
 * Node process of its own, like the gateway is. Gateway ÷ relay shows what the gateway adds beyond the hop itself.
 */
async function startRelay(upstreamPort: number, marker: string): Promise<{ port: number; stop(): Promise<void> }> {
  const script = `const net = require('node:net'); const up = Number(process.argv[1]);
const server = net.createServer((c) => {
  const u = net.connect(up, '127.0.0.1'); c.setNoDelay(true); u.setNoDelay(true); c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  for (const s of [c, u]) { s.on('error', end); s.on('close', end); }
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  // `marker` (the bench's scratch dir) only makes the process recognisable to the bench's final leak check.
  const child = spawn(process.execPath, ['-e', script, String(upstreamPort), marker], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const unregister = onCleanup('rtt relay', stop);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      out += text;
      const m = /^(\d+)\n/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the relay exited (${code})`)));
  });
  return {
    port,
    stop: async () => {
      await stop();
      unregister();
    },
  };
}

export interface RttOptions {
  api: SessionsApi;
  dataDir: string;
  /** Calls per path, split evenly over `rounds`. */
  calls: number;
  rounds: number;
  warmups: number;
  /** The bench's scratch dir, put in the relay's argv so the final leak check would see it. */
  marker: string;
}

const PATHS = ['gateway', 'gatewayUnlogged', 'direct', 'relay'] as const;
type PathName = (typeof PATHS)[number];

export async function runRtt({ api, dataDir, calls, rounds, warmups, marker }: RttOptions): Promise<RttResult> {
  const session = await api.create({ keepAlive: true });
  const unregister = releaseOnCleanup(api, session.id);
  const unlogged = await api.create({ keepAlive: true, browserSettings: { logSession: false } });
  const unregisterUnlogged = releaseOnCleanup(api, unlogged.id);
  const clients: RawCdp[] = [];
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
  try {
    const directWs = await directUrl(dataDir, session.id);
    const url = new URL(directWs);
    relay = await startRelay(Number(url.port), marker);
    const paths = {} as Record<PathName, RawCdp>;
    for (const [name, wsUrl] of [
      ['gateway', session.connectUrl],
      ['gatewayUnlogged', unlogged.connectUrl],
      ['direct', directWs],
      ['relay', `ws://127.0.0.1:${relay.port}${url.pathname}`],
    ] as const) {
      paths[name] = await RawCdp.open(wsUrl);
      clients.push(paths[name]);
    }
    progress('rtt', `session ${session.id}: ${warmups} warm-up calls per path`);
    for (const name of PATHS) for (let i = 0; i < warmups; i++) await paths[name].time();

    const samples: Record<PathName, number[]> = { gateway: [], gatewayUnlogged: [], direct: [], relay: [] };
    const roundMedians: Record<PathName, number[]> = { gateway: [], gatewayUnlogged: [], direct: [], relay: [] };
    const perRound = Math.ceil(calls / rounds);
    for (let r = 0; r < rounds; r++) {
      // Rotate which path goes first.
      const order = PATHS.map((_, i) => PATHS[(i + r) % PATHS.length] as PathName);
      for (const name of order) {
        const round: number[] = [];
        for (let i = 0; i < perRound; i++) round.push(await paths[name].time());
        samples[name].push(...round);
        roundMedians[name].push(summarize(round, 1).median);
      }
      progress(
        'rtt',
        `round ${r + 1}/${rounds}: median gateway ${roundMedians.gateway.at(-1)} µs (log off ${roundMedians.gatewayUnlogged.at(-1)} µs), direct ${roundMedians.direct.at(-1)} µs, relay ${roundMedians.relay.at(-1)} µs`,
      );
    }
    const g = summarize(samples.gateway, 1);
    const gu = summarize(samples.gatewayUnlogged, 1);
    const d = summarize(samples.direct, 1);
    const rl = summarize(samples.relay, 1);
    return {
      callsPerPath: samples.gateway.length,
      rounds,
      warmups,
      gateway: g,
      gatewayUnlogged: gu,
      ratioLoggingMedian: ratio(g.median, gu.median),
      ratioLoggingP95: ratio(g.p95, gu.p95),
      direct: d,
      relay: rl,
      ratioMedian: ratio(g.median, d.median),
      ratioP95: ratio(g.p95, d.p95),
      ratioP99: ratio(g.p99, d.p99),
      ratioRelayMedian: ratio(rl.median, d.median),
      ratioGatewayOverRelayMedian: ratio(g.median, rl.median),
      addedMedianUs: Math.round((g.median - d.median) * 10) / 10,
      roundMedians,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await relay?.stop();
    await api.release(session.id);
    unregister();
    await api.release(unlogged.id);
    unregisterUnlogged();
  }
}
