/**
 * `npm run bench`'s AWS part runs outside vitest, where nothing a test process has (the run's DynamoDB Local,
 * its trusted edge CA) exists: this runs it as a user does, for one create of each kind, so that it keeps working.
 * It checks that the figures were measured and written, never what they are (the bench compares them).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '../../../..');
const out = mkdtempSync(join(tmpdir(), 'wc-bench-aws-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('measures the create latency through the AWS topology, cold and from the pool, and writes it', async () => {
  const tsx = join(repoRoot, 'node_modules/.bin/tsx');
  const { stdout } = await promisify(execFile)(
    tsx,
    ['--conditions=@wallcrawler/source', 'bench/aws.ts', '--only', 'create', '--iterations', '1', '--out', out],
    { cwd: repoRoot, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
  );
  expect(stdout).toContain('from the warm pool');
  const result = JSON.parse(readFileSync(join(out, 'aws.json'), 'utf8')) as {
    create: { samplesMs: { cold: number[]; pool: number[] } };
  };
  for (const samples of [result.create.samplesMs.cold, result.create.samplesMs.pool]) {
    expect(samples).toHaveLength(1);
    expect(samples[0]).toBeGreaterThan(0);
  }
  expect(readFileSync(join(out, 'aws.md'), 'utf8')).toContain('create → 201, from the warm pool');
}, 180_000);
