/**
 * DynamoDB Local, AWS's own emulator, started as a child process for the tests: in memory, on a free loopback
 * port. It supports what the DynamoDB adapter relies on (transactions, GSIs, TTL settings, streams).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
// @ts-expect-error: a plain script without types, shared with `npm test`'s pretest.
import { ensureDynamoDbLocal } from '../scripts/dynamodb-local.mjs';
import { freePort, tempDir } from './index.js';

export interface DynamoDbLocal {
  /** `http://127.0.0.1:port` */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the emulator and resolves once it answers HTTP. `detached` puts the JVM in a process group of its own, so
 * that a terminal's Ctrl-C reaches only the command that started it, which stops it last (after the tasks that
 * record their endings in it).
 */
export async function startDynamoDbLocal({ timeout = 30_000, detached = false } = {}): Promise<DynamoDbLocal> {
  if (spawnSync('java', ['-version']).error) {
    throw new Error(
      'DynamoDB Local needs a Java runtime: run `npm run pretest` (it installs openjdk-17-jre-headless; `npm test` runs it first).',
    );
  }
  const dir: string = ensureDynamoDbLocal();
  const port = await freePort();
  const workDir = tempDir('dynamodb-local-');
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xms64m',
      '-Xmx512m',
      // No /tmp/hsperfdata_<user>/<pid> file, which a SIGKILLed JVM leaves behind.
      '-XX:-UsePerfData',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      // It would otherwise report usage to AWS.
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // Its working directory gets a metadata file even in memory: keep it out of the repository.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workDir.path, detached },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null) {
      workDir.remove();
      throw new Error(`DynamoDB Local exited at start:\n${output}`);
    }
    try {
      // Any HTTP answer (a 400 for an empty request) means it is listening.
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      workDir.remove();
      throw new Error(`DynamoDB Local did not listen within ${timeout} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      workDir.remove();
    },
  };
}
