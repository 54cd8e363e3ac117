/**
 * The AWS deployment's figures that can be measured on one machine (part of `npm run bench`):
 *
 * - the Lambda bundles: size on disk and gzipped, and the cold import time of each (a fresh `node` per sample);
 * - the create latency of a session through the AWS topology (the Lambda handler behind an API Gateway
 *   stand-in, DynamoDB Local, the local ECS endpoint running the controller image's command), from the create
 *   request to its 201, with the official Browserbase SDK: cold (the pool empty: RunTask) and from the warm
 *   pool (an idle task claimed), alternating; each session released before the next.
 *
 *   tsx --conditions=@wallcrawler/source bench/aws.ts [--iterations 10] [--out bench/results] [--only create]
 *
 * `--only create` measures the create latency alone (no bundle figures).
 *
 * What Fargate adds (ENI attachment, image pull: tens of seconds) does not exist here, so the cold figure is a
 * floor for a real cold start. Writes aws.json and aws.md next to the main bench's results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import Browserbase from '@browserbasehq/sdk';
import { startDynamoDbLocal } from '@wallcrawler/test-support/dynamodb-local';
import { type AwsTopology, startAwsTopology } from '../packages/server/test/support/aws-topology.js';
import { progress } from './progress.js';
import { type Summary, summarize } from './stats.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

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
    const aws = await startAwsTopology({ dynamodbEndpoint: dynamo.endpoint, concurrency: 2 });
    try {
      const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
      const samples = { cold: [] as number[], pool: [] as number[] };
      // Alternating: a create with the pool empty (RunTask), then one that claims a task warmed beforehand.
      for (let i = 0; i < warmups + iterations; i++) {
        const cold = await timedCreate(aws, bb);
        await aws.prewarm(1);
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
    `| create → 201, from the warm pool (an idle task claimed) | ${create.pool.median} ms | ${create.pool.p95} ms | the same path; the task was idle in the pool with its browser started; the API pushes the claim to it, and it answers once the session is RUNNING |`,
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
