/**
 * Vitest global setup of the distributed suite: the throwaway CA of the local connect edge's TLS front, made once
 * for the run, which every test process trusts as a user's would: through `NODE_EXTRA_CA_CERTS`, which Node reads
 * only at its start (vitest forks its workers after this setup, with this process's environment). Each topology
 * signs its front's certificate with it (`inject('edgeCa')`); the directory goes at the end of the run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { makeThrowawayCa, type ThrowawayCa } from './throwaway-ca.js';

declare module 'vitest' {
  export interface ProvidedContext {
    edgeCa: ThrowawayCa;
  }
}

export function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'wc-edge-ca-'));
  const ca = makeThrowawayCa(dir);
  // Certificates the environment trusts already stay trusted.
  const before = process.env.NODE_EXTRA_CA_CERTS;
  const bundle = join(dir, 'trusted.pem');
  const extra = before && existsSync(before) ? `${readFileSync(before, 'utf8').trimEnd()}\n` : '';
  writeFileSync(bundle, `${extra}${readFileSync(ca.certPath, 'utf8')}`);
  process.env.NODE_EXTRA_CA_CERTS = bundle;
  project.provide('edgeCa', ca);
  return () => {
    if (before === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
