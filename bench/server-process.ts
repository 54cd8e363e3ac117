/**
 * The Wallcrawler server under test, as a child process (`node --import tsx --conditions=@wallcrawler/source
 * packages/server/src/cli.ts start`), so that its memory and event loop are its own and not mixed with the bench
 * client's. The pid measured is the one holding the listening socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import WebSocket from 'ws';
import { onCleanup, throwIfAborted } from './cleanup.js';
import { findByArg, groupAlive, listeningPid, tree } from './procfs.js';
import { progress, sleep } from './progress.js';
import { watchStderr } from './stderr-watch.js';

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The process that listens (and whose memory is reported). */
  pid: number;
  /** The spawned process (the same as `pid` when nothing wraps it). */
  child: ChildProcess;
  dataDir: string;
  apiKey: string;
  /** Spawn until the "listening on" line, ms. */
  startupMs: number;
  /** The command line that was run. */
  argv: string[];
  /** The Node inspector's WebSocket URL when started with `inspect`. */
  inspectorUrl: string | undefined;
  /** Forces a full, memory-reducing garbage collection in the server (needs `inspect`). */
  collectGarbage(): Promise<void>;
  /** The last 8 KB the server wrote on stderr (its log, at `logLevel`). */
  stderrTail(): string;
  /** Stops the server (SIGTERM: it ends every session), then makes sure nothing of it is left. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  repoRoot: string;
  /**
   * `source`: `node --import tsx --conditions=@wallcrawler/source packages/server/src/cli.ts start` (the default;
   * always current). `dist`: `node packages/server/dist/cli.js start`, the built package as users run it (no tsx
   * loader in the process), only as current as the last `npm run build`.
   */
  from: 'source' | 'dist';
  /**
   * Start the Node inspector on a free loopback port (`--inspect=127.0.0.1:0`), so that the bench can force a
   * garbage collection before reading memory. Without it, RSS depends on when V8 last collected.
   */
  inspect?: boolean;
  dataDir: string;
  apiKey: string;
  chromePath: string;
  /** WALLCRAWLER_LOG_LEVEL. @default 'silent' */
  logLevel?: string;
  /** WALLCRAWLER_POOL_SIZE: idle browsers the server keeps started. @default 0 (every session starts its own) */
  poolSize?: number;
}

const LISTENING = /is listening on (http:\/\/\S+)/;

/** `HeapProfiler.collectGarbage` over the inspector: a full GC that also returns freed pages to the OS. */
function collectGarbage(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('HeapProfiler.collectGarbage timed out'));
    }, 30_000);
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
      if (reply.id !== 1) return;
      clearTimeout(timer);
      ws.close();
      if (reply.error) reject(new Error(reply.error.message));
      else resolve();
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function startServer({
  repoRoot,
  from,
  inspect = false,
  dataDir,
  apiKey,
  chromePath,
  logLevel = 'silent',
  poolSize = 0,
}: StartServerOptions): Promise<ServerProcess> {
  throwIfAborted();
  const argv = [
    process.execPath,
    ...(inspect ? ['--inspect=127.0.0.1:0'] : []),
    ...(from === 'dist'
      ? ['packages/server/dist/cli.js', 'start']
      : ['--import', 'tsx', '--conditions=@wallcrawler/source', 'packages/server/src/cli.ts', 'start']),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WALLCRAWLER_HOST: '127.0.0.1',
    WALLCRAWLER_PORT: '0',
    WALLCRAWLER_DATA_DIR: dataDir,
    WALLCRAWLER_API_KEY: apiKey,
    WALLCRAWLER_LOG_LEVEL: logLevel,
    WALLCRAWLER_CHROME_PATH: chromePath,
    WALLCRAWLER_POOL_SIZE: String(poolSize),
  };
  delete env.WALLCRAWLER_PUBLIC_URL;
  const t0 = performance.now();
  // Its own process group: a Ctrl-C in the terminal reaches only the bench, which then stops the server in order.
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = watchStderr(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });

  const stop = async () => {
    if (alive && child.pid) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!done) {
        progress('server', 'did not stop within 20 s of SIGTERM: SIGKILL');
        child.kill('SIGKILL');
        await exited;
      }
    }
    // Whatever is left in its group (tsx's esbuild service) and any browser of its data dir (only after a SIGKILL).
    if (child.pid && groupAlive(child.pid)) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    for (const p of findByArg(dataDir)) {
      progress('server', `killing leftover process ${p.pid} (${p.comm}) of the server's data dir`);
      for (const target of [-p.pgid, p.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {}
      }
    }
  };
  const unregister = onCleanup('stop server', stop);

  const url = await stderr.match(LISTENING, 60_000, 'the server did not start listening');
  const startupMs = performance.now() - t0;
  const inspectorUrl = inspect ? /Debugger listening on (ws:\/\/\S+)/.exec(stderr.tail())?.[1] : undefined;
  if (inspect && !inspectorUrl) throw new Error(`the server printed no inspector URL:\n${stderr.tail()}`);
  const port = Number(new URL(url).port);

  const pid = listeningPid(port);
  if (!pid) throw new Error(`no process listens on port ${port}`);
  if (!tree(child.pid as number).some((p) => p.pid === pid)) {
    throw new Error(`port ${port} is held by pid ${pid}, which is not the spawned server ${child.pid}`);
  }
  return {
    url,
    port,
    pid,
    child,
    dataDir,
    apiKey,
    startupMs,
    argv,
    inspectorUrl,
    stderrTail: stderr.tail,
    collectGarbage: () => {
      if (!inspectorUrl) return Promise.reject(new Error('the server was started without the inspector'));
      return collectGarbage(inspectorUrl);
    },
    stop: async () => {
      await stop();
      unregister();
    },
  };
}
