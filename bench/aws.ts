/**
 * The AWS deployment's figures that can be measured on one machine (part of `npm run bench`):
 *
 * - the Lambda bundles: size on disk and gzipped, and the cold import time of each (a fresh `node` per sample);
 * - the create latency of a session through the AWS topology (the Lambda handler behind an API Gateway
 *   stand-in, DynamoDB Local, the local ECS endpoint running the controller image's command), from the create
 *   request to its 201, with the official Browserbase SDK: cold (the pool empty: RunTask) and from the warm
 *   pool (an idle task claimed, after it idled 2 s, as a pool's tasks do), alternating; each session released before
 *   the next.
 *
 *   tsx --conditions=@wallcrawler/source bench/aws.ts [--iterations 10] [--out bench/results] [--only create]
 *
 * `--only create` measures the create latency alone (no bundle figures).
 *
 * What Fargate adds (ENI attachment, image pull: tens of seconds) does not exist here, so the cold figure is a
 * floor for a real cold start. Writes aws.json and aws.md next to the main bench's results.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import Browserbase from '@browserbasehq/sdk';
import { CONTROLLER_ENV } from '@wallcrawler/contracts';
import { type AwsTopology, startAwsTopology } from '@wallcrawler/test-support/aws-topology';
import { startDynamoDbLocal } from '@wallcrawler/test-support/dynamodb-local';
import { makeThrowawayCa, throwawayCaIn } from '@wallcrawler/test-support/throwaway-ca';
import { progress } from './progress.js';
import { type Summary, summarize } from './stats.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
/** Set in the bench's second run: the directory of the connect edge's throwaway CA, which that run trusts. */
const EDGE_CA_DIR = 'WALLCRAWLER_BENCH_EDGE_CA_DIR';

/**
 * Clients reach sessions through the connect edge's TLS front, as on the stack, and must trust its throwaway CA.
 * Node reads `NODE_EXTRA_CA_CERTS` only at its start, so the bench makes the CA, then runs itself again with it
 * trusted, as a user's client would be (`npm run aws:local` prints the same variable). Returns that run's exit
 * code, or undefined in the second run itself.
 */
function runTrustingTheEdgeCa(): number | undefined {
  if (process.env[EDGE_CA_DIR]) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wc-bench-ca-'));
  try {
    const ca = makeThrowawayCa(dir);
    const trusted = process.env.NODE_EXTRA_CA_CERTS;
    const bundle = join(dir, 'trusted.pem');
    const extra = trusted && existsSync(trusted) ? `${readFileSync(trusted, 'utf8').trimEnd()}\n` : '';
    writeFileSync(bundle, `${extra}${readFileSync(ca.certPath, 'utf8')}`);
    const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle, [EDGE_CA_DIR]: dir },
    });
    return run.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BundleFigures {
  file: string;
  bytes: number;
  gzipBytes: number;
  coldImportMs: Summary;
}

function bundleFigures(name: string, samples: number): BundleFigures {
  const file = join(repoRoot, 'packages/server/dist/lambda', name, 'index.cjs');
  const bytes = statSync(file).size;
  const gzipBytes = gzipSync(readFileSync(file)).length;
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        // The API's bundle marks its handler as streaming at import, with what Lambda's runtime provides.
        `globalThis.awslambda={streamifyResponse:(h)=>h};const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
    );
    times.push(Number(out.trim()));
  }
  return { file: `packages/server/dist/lambda/${name}/index.cjs`, bytes, gzipBytes, coldImportMs: summarize(times) };
}

/** One create → 201, timed, then its release and the end of its task. */
/**
 * How long a warmed task idles before the pooled create claims it. A pool's tasks wait seconds to minutes for a
 * create; one claimed the instant it reports idle still has its new Chromium busy finishing its start, which on
 * this machine's two shared cores slows the API and the task alike (on Fargate each task has its own vCPUs).
 */
const POOL_IDLE_MS = 2_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function timedCreate(aws: AwsTopology, bb: Browserbase): Promise<number> {
  const t0 = performance.now();
  const session = await bb.sessions.create({ projectId: aws.projectId });
  const ms = performance.now() - t0;
  await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  const pooled = (await aws.poolTasks()).find((t) => t.sessionId === session.id)?.taskArn;
  const own = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === session.id)?.taskArn;
  const task = pooled ?? own;
  if (task) await aws.ecs.waitStopped(task);
  return Math.round(ms * 10) / 10;
}

async function createLatency(
  iterations: number,
  warmups: number,
): Promise<{ cold: Summary; pool: Summary; samples: { cold: number[]; pool: number[] } }> {
  const dynamo = await startDynamoDbLocal();
  try {
    // As the stack deploys it: clients through the connect edge, whose throwaway CA the topology makes. A client's
    // disconnect ends its session quickly, so each release is over before the next create.
    const aws = await startAwsTopology({
      dynamodbEndpoint: dynamo.endpoint,
      concurrency: 2,
      readyTimeoutMs: 20_000,
      edge: { ca: throwawayCaIn(process.env[EDGE_CA_DIR] ?? '') },
      taskEnv: { [CONTROLLER_ENV.disconnectGraceMs]: '300' },
    });
    try {
      const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
      const samples = { cold: [] as number[], pool: [] as number[] };
      // Alternating: a create with the pool empty (RunTask), then one that claims a task warmed beforehand.
      for (let i = 0; i < warmups + iterations; i++) {
        const cold = await timedCreate(aws, bb);
        await aws.prewarm(1);
        await sleep(POOL_IDLE_MS);
        const pool = await timedCreate(aws, bb);
        if (i >= warmups) {
          samples.cold.push(cold);
          samples.pool.push(pool);
        }
        progress(
          'aws',
          `create ${i < warmups ? '(warm-up) ' : ''}cold ${Math.round(cold)} ms, from the pool ${Math.round(pool)} ms`,
        );
      }
      return { cold: summarize(samples.cold), pool: summarize(samples.pool), samples };
    } finally {
      await aws.close();
    }
  } finally {
    await dynamo.stop();
  }
}

async function main(): Promise<number> {
  const firstRun = runTrustingTheEdgeCa();
  if (firstRun !== undefined) return firstRun;
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      iterations: { type: 'string' },
      out: { type: 'string' },
      'import-samples': { type: 'string' },
      only: { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'create') {
    console.error('--only takes one value: create');
    return 2;
  }
  const createOnly = values.only === 'create';
  const iterations = Number(values.iterations ?? 10);
  const importSamples = Number(values['import-samples'] ?? 10);
  const outDir = values.out ?? join(benchDir, 'results');
  if (!existsSync(join(repoRoot, 'packages/server/dist/lambda/api/index.cjs'))) {
    console.error('bench/aws.ts needs the built Lambda bundles: run `npm run build` first.');
    return 2;
  }
  if (!createOnly) progress('aws', `Lambda bundles: size and cold import (${importSamples} fresh processes each)`);
  const bundles = createOnly
    ? []
    : ['api', 'task-state', 'warm-pool'].map((name) => bundleFigures(name, importSamples));
  progress(
    'aws',
    `create latency through the AWS topology: ${iterations} cold and ${iterations} pooled (+2 warm-ups each)`,
  );
  const create = await createLatency(iterations, 2);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    bundles,
    create: { cold: create.cold, pool: create.pool, samplesMs: create.samples },
  };
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const md = [
    '## AWS deployment (measured locally)',
    '',
    '| measure | median | p95 | detail |',
    '|---|---:|---:|---|',
    ...bundles.map(
      (b) =>
        `| cold import of \`${b.file}\` | ${b.coldImportMs.median} ms | ${b.coldImportMs.p95} ms | ${kb(b.bytes)} (${kb(b.gzipBytes)} gzipped), ${b.coldImportMs.n} fresh processes |`,
    ),
    `| create → 201, cold task (local ECS, no Fargate start delay) | ${create.cold.median} ms | ${create.cold.p95} ms | ${create.cold.n} sessions through the Lambda handler, DynamoDB Local, the controller image's command |`,
    `| create → 201, from the warm pool (an idle task claimed) | ${create.pool.median} ms | ${create.pool.p95} ms | the same path; the task was idle in the pool (2 s) with its browser started; the API pushes the claim to it, and it answers once the session is RUNNING |`,
    '',
    'A real Fargate cold start adds the ENI attachment and the image pull (tens of seconds) before the controller',
    "starts; the cold figure above is the part Wallcrawler's own code and Chromium cost.",
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'aws.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, 'aws.md'), md);
  console.log(md);
  progress('aws', `wrote ${join(outDir, 'aws.json')} and aws.md`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
