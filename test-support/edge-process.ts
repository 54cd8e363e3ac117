/**
 * The connect edge as the stack's gateway service runs it: the controller image's `/app`, its command overridden
 * to `node dist/edge/main.js`, in a process of its own. The local topology starts it behind the TLS front, and a
 * test restarts it (SIGTERM: its clients get close frames, it exits 0) on the same port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EDGE_ENV } from '@wallcrawler/contracts';

/** The gateway service's command, in the image's working directory. */
export const EDGE_COMMAND = ['node', 'dist/edge/main.js'] as const;

export interface EdgeProcessOptions {
  /** The image's `/app` on this machine. */
  appDir: string;
  /** The service's environment (the edge's `EDGE_ENV`, the emulators' endpoints and credentials). */
  env: Record<string, string>;
  /** Where its output goes as it comes (a container's log driver). */
  onOutput?: (chunk: string) => void;
}

export interface EdgeProcess {
  /** `http://127.0.0.1:<port>`, the internal address the TLS front relays to. */
  url(): string;
  /** Its output so far (JSON log lines). */
  output(): string;
  /** SIGTERM, then its exit code (SIGKILL after 10 s: a hang is a failure the code says, 137). */
  stop(): Promise<number>;
  /** Stops it and starts it again on the same port. @returns the stopped one's exit code */
  restart(): Promise<number>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<number>;
}

export async function startEdgeProcess({ appDir, env, onOutput }: EdgeProcessOptions): Promise<EdgeProcess> {
  let output = '';
  let url = '';
  const launch = async (port: string): Promise<Running> => {
    const [, ...args] = EDGE_COMMAND;
    const child = spawn(process.execPath, args, {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', ...env, [EDGE_ENV.port]: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))),
    );
    let lines = '';
    const ready = new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output += text;
        onOutput?.(text);
        lines += text;
        for (const line of lines.split('\n')) {
          const found = /"msg":"connect edge ready"/.test(line) ? /"url":"([^"]+)"/.exec(line)?.[1] : undefined;
          if (found) resolve(found);
        }
        lines = lines.slice(lines.lastIndexOf('\n') + 1);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        onOutput?.(chunk.toString('utf8'));
      });
      void exited.then((code) =>
        reject(new Error(`the connect edge exited (${code}) before it was ready:\n${output}`)),
      );
    });
    url = await ready;
    return { child, exited };
  };
  let running = await launch(env[EDGE_ENV.port] ?? '0');
  const stop = async () => {
    const { child, exited } = running;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  return {
    url: () => url,
    output: () => output,
    stop,
    async restart() {
      const port = new URL(url).port;
      const code = await stop();
      running = await launch(port);
      return code;
    },
  };
}
