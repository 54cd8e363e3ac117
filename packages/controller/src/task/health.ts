#!/usr/bin/env node
import { CONTROLLER_ENV as E } from '@wallcrawler/contracts';
/**
 * The container's health check (`HEALTHCHECK` and the ECS task definition's `healthCheck`): exits 0 when the
 * controller's proxy answers `/health` with 200, 1 otherwise. The proxy listens on the task's own address
 * (from the task metadata) unless `WALLCRAWLER_CONTROLLER_HOST` says otherwise.
 */
import { readTaskMetadata } from '../aws/task-metadata.js';

async function main(): Promise<number> {
  const env = process.env;
  const metadata = env[E.ecsMetadataUri];
  const host = env[E.host] || (metadata ? (await readTaskMetadata(metadata, { attempts: 1 })).privateIp : '127.0.0.1');
  const port = env[E.port] || '9223';
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const response = await fetch(`http://${target.includes(':') ? `[${target}]` : target}:${port}/health`, {
    signal: AbortSignal.timeout(3_000),
  });
  return response.ok ? 0 : 1;
}

process.exitCode = await main().catch(() => 1);
