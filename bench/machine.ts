/** What the numbers were measured on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  memTotalGiB: number;
  kernel: string;
  node: string;
  chromium: string;
  chromiumPath: string;
  puppeteerCore: string;
  ws: string;
  gitCommit: string;
  /** 1-minute load average when the bench started (a busy machine makes every figure noisier). */
  loadAvgAtStart: number;
}

function run(file: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(chromePath: string, repoRoot: string): Machine {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const commit = run('git', ['rev-parse', '--short', 'HEAD'], repoRoot);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], repoRoot);
  return {
    date: new Date().toISOString(),
    cpuModel: model.trim(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: run(chromePath, ['--version']),
    chromiumPath: chromePath,
    puppeteerCore: packageVersion('puppeteer-core'),
    ws: packageVersion('ws'),
    gitCommit: `${commit}${dirty && dirty !== 'unknown' ? ' (with uncommitted changes)' : ''}`,
    loadAvgAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}
