/**
 * `npm run aws:local`: the AWS deployment's topology on this machine, to try the stack's behaviour without an
 * account (docs/deploy-aws.md §"Try it without an account"). It starts DynamoDB Local, s3rver, the local ECS endpoint
 * (running the controller image's real command per task), the API function behind the local front door, with
 * the synthesized stack's environment, a warm pool, and the connect edge (the gateway service's real command)
 * behind a local TLS front with a throwaway CA; creates a project and an API key; prints
 *
 *   BROWSERBASE_BASE_URL=https://127.0.0.1:<port>
 *   BROWSERBASE_API_KEY=<key>
 *   STAGEHAND_API_URL=https://127.0.0.1:<port>/v1
 *   NODE_EXTRA_CA_CERTS=<the throwaway CA's certificate>
 *
 * on stdout once ready (everything else goes to stderr), and serves until SIGINT or SIGTERM. Then it stops every
 * task (each runs its close path), the edge, s3rver, DynamoDB Local and the front door, removes its directory
 * (the CA's with it), and exits 0.
 *
 * Settings (environment): WALLCRAWLER_PORT (default 3100; 0 picks a free port), WALLCRAWLER_POOL_SIZE (idle
 * tasks kept ready, default 2; 0 turns the pool off), WALLCRAWLER_CONNECT (`edge`, the default, or `direct`:
 * plain http, and clients connect to each task's address, with no NODE_EXTRA_CA_CERTS line), WALLCRAWLER_LOG_LEVEL
 * (default info), WALLCRAWLER_CHROME_PATH (the tasks' Chromium; default: found as the local server finds it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@wallcrawler/contracts';
import type { AwsTopology } from '@wallcrawler/test-support/aws-topology';
import type { DynamoDbLocal } from '@wallcrawler/test-support/dynamodb-local';
// @ts-expect-error: a plain script without types, shared with `npm test`'s pretest.
import { dynamoDbLocalDir } from './dynamodb-local.mjs';
// @ts-expect-error: a plain script without types, shared with `npm run setup`.
import { onPath } from './steps.mjs';

const DEFAULT_PORT = 3100;
const DEFAULT_POOL_SIZE = 2;
/** The stack's warm-pool scaler runs every minute (its EventBridge schedule). */
const SCALER_SCHEDULE_MS = 60_000;
/** Signals this soon after the first are the same Ctrl-C: the terminal sends it to npm and to us, npm forwards it. */
const SAME_SIGNAL_MS = 1_000;

const progress = (line: string) => process.stderr.write(`aws:local: ${line}\n`);

/** A start refused with a message of its own (no stack): a setting (exit 2), or what the machine lacks. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

function settings(env: NodeJS.ProcessEnv) {
  const integer = (name: string, fallback: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw new UsageError(`${name} must be an integer from 0 to ${max}, not ${JSON.stringify(raw)}`);
    return value;
  };
  const logLevel = env.WALLCRAWLER_LOG_LEVEL || 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel))
    throw new UsageError(`WALLCRAWLER_LOG_LEVEL must be trace, debug, info, warn, error, fatal or silent`);
  const connect = env.WALLCRAWLER_CONNECT || 'edge';
  if (connect !== 'edge' && connect !== 'direct')
    throw new UsageError(`WALLCRAWLER_CONNECT must be edge or direct, not ${JSON.stringify(connect)}`);
  return {
    port: integer('WALLCRAWLER_PORT', DEFAULT_PORT, 65_535),
    poolSize: integer('WALLCRAWLER_POOL_SIZE', DEFAULT_POOL_SIZE, 20),
    logLevel,
    connect: connect as 'edge' | 'direct',
  };
}

/** Fails at once, before anything starts, when the port is taken (the front door binds it last). */
async function checkPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use: stop what listens there, or set WALLCRAWLER_PORT to another port (0 picks a free one)`
            : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** Java and DynamoDB Local, installed as `npm test`'s pretest does when missing, their output on stderr. */
function ensureDynamoDbLocalInstalled(): void {
  if (onPath('java') && existsSync(join(dynamoDbLocalDir, 'DynamoDBLocal.jar'))) return;
  progress('installing what DynamoDB Local needs (a Java runtime, the emulator)');
  const script = new URL('./dynamodb-local.mjs', import.meta.url).pathname;
  const result = spawnSync(process.execPath, [script, '--java'], { stdio: ['inherit', 2, 2] });
  if (result.status !== 0) throw new UsageError('could not install DynamoDB Local (see above)', 1);
}

/** Writes each task's (and the edge's) output to stderr a line at a time, so two tasks' lines never interleave. */
function taskOutput(): (taskArn: string, chunk: string) => void {
  const partial = new Map<string, string>();
  return (taskArn, chunk) => {
    const text = (partial.get(taskArn) ?? '') + chunk;
    const end = text.lastIndexOf('\n') + 1;
    if (end > 0) process.stderr.write(text.slice(0, end));
    if (end < text.length) partial.set(taskArn, text.slice(end));
    else partial.delete(taskArn);
  };
}

/** What a stop must undo, in reverse order of start; each undone even when another failed. */
type Cleanup = () => Promise<void> | void;

async function main(): Promise<number> {
  let topology: AwsTopology | undefined;
  let firstSignal = 0;
  let hurried = false;
  let stop!: () => void;
  const stopRequested = new Promise<void>((resolve) => {
    stop = resolve;
  });
  // Registered before anything starts (the heavy modules are imported below), so that no signal finds the
  // default handler, which would exit without stopping what was started.
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (!firstSignal) {
      firstSignal = now;
      progress(`${signal}: stopping (each task runs its close path; ${signal} again to kill them at once)`);
      stop();
    } else if (now - firstSignal > SAME_SIGNAL_MS && !hurried) {
      hurried = true;
      progress(`${signal} again: killing the tasks without their close path`);
      for (const task of topology?.ecs.tasks() ?? [])
        if (task.lastStatus !== 'STOPPED') topology?.ecs.killTask(task.taskArn);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stopped = () => firstSignal !== 0;

  if (process.platform !== 'linux')
    throw new UsageError(
      `aws:local runs on Linux only: each task listens on a loopback address of its own (127.x.y.z), which ${process.platform} does not route`,
    );
  const { port, poolSize, logLevel, connect } = settings(process.env);
  await checkPortFree(port);
  ensureDynamoDbLocalInstalled();
  if (stopped()) return 0;

  // Every directory this command makes (the tasks' filesystems, the image's /app, s3rver's and DynamoDB Local's
  // directories) is made under one of its own, removed at the end whatever happened.
  const root = mkdtempSync(join(tmpdir(), 'wc-aws-local-'));
  process.env.TMPDIR = root;
  // The functions run here with the emulators' credentials: whatever AWS credentials the shell has are never used.
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const cleanups: Cleanup[] = [() => rmSync(root, { recursive: true, force: true, maxRetries: 5 })];
  let code = 0;
  try {
    const [{ startDynamoDbLocal }, { startAwsTopology }, { findChromium }, { default: pino }] = await Promise.all([
      import('@wallcrawler/test-support/dynamodb-local'),
      import('@wallcrawler/test-support/aws-topology'),
      import('@wallcrawler/controller'),
      import('pino'),
    ]);
    // The image's Chromium is this machine's: the one the local server would use (WALLCRAWLER_CHROME_PATH, else
    // the usual places). Found before anything starts, so that its absence is one clear error.
    const chromePath = findChromium(process.env.WALLCRAWLER_CHROME_PATH);
    const logger = pino({ level: logLevel, base: { service: 'wallcrawler' } }, pino.destination(2)) as Logger;
    if (!stopped()) {
      progress('starting DynamoDB Local');
      const dynamo: DynamoDbLocal = await startDynamoDbLocal({ detached: true });
      cleanups.push(() => dynamo.stop());
      if (!stopped()) {
        progress(
          `building the controller image and synthesizing the stack; then the warm pool (${poolSize} ${poolSize === 1 ? 'task' : 'tasks'})`,
        );
        const output = taskOutput();
        const aws = await startAwsTopology({
          dynamodbEndpoint: dynamo.endpoint,
          port,
          logger,
          onTaskOutput: output,
          onEdgeOutput: (chunk) => output('edge', chunk),
          connect,
          detached: true,
          taskEnv: { WALLCRAWLER_LOG_LEVEL: logLevel, WALLCRAWLER_CHROME_PATH: chromePath },
          ...(poolSize > 0
            ? { warmPool: { min: poolSize, max: poolSize + 10, targetIdle: poolSize, scheduleMs: SCALER_SCHEDULE_MS } }
            : {}),
        });
        topology = aws;
        cleanups.push(() => aws.close());
      }
    }
    if (topology && poolSize > 0 && !stopped()) {
      const aws = topology;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const idle = (await aws.poolTasks()).filter((t) => t.status === 'IDLE').length;
        if (idle >= poolSize || stopped()) break;
        // A task that cannot start (no browser, a bad setting) would be replaced by the service over and over.
        const failed = aws.ecs.tasks().find((t) => t.lastStatus === 'STOPPED' && t.exitCode !== 0);
        if (failed)
          throw new Error(`a warm-pool task exited (${failed.exitCode}) before it was ready: its output is above`);
        if (Date.now() > deadline) throw new Error(`the warm pool has ${idle} of ${poolSize} idle tasks after 120 s`);
        await Promise.race([stopRequested, new Promise((resolve) => setTimeout(resolve, 250))]);
      }
    }
    if (topology && !stopped()) {
      const lines = [
        `BROWSERBASE_BASE_URL=${topology.url}`,
        `BROWSERBASE_API_KEY=${topology.apiKey}`,
        `STAGEHAND_API_URL=${topology.url}/v1`,
        // The throwaway CA of the TLS front: Node reads it at start, so it goes in the clients' environment.
        ...(topology.edge ? [`NODE_EXTRA_CA_CERTS=${topology.edge.caPath}`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      progress(`ready on ${topology.url}: Ctrl-C or SIGTERM stops it`);
    }
    await stopRequested;
  } catch (error) {
    progress(`failed: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      progress(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
      code = 1;
    }
  }
  if (code === 0 && hurried) code = 130;
  progress(code === 0 ? 'stopped' : `stopped (exit ${code})`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    progress(error instanceof UsageError ? error.message : String(error instanceof Error ? error.stack : error));
    process.exit(error instanceof UsageError ? error.exitCode : 1);
  },
);
