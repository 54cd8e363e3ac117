/**
 * `npm run aws:local` as a user runs it: the real command in a process of its own, its four lines read from its
 * stdout and given to a user's script (NODE_EXTRA_CA_CERTS among them), which creates a session from its warm pool
 * with the official Browserbase SDK and browses it with puppeteer-core over wss through the connect edge; then
 * SIGTERM, and nothing it started or made is left. And the settings it refuses, before starting anything.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Browserbase from '@browserbasehq/sdk';
import { findProcesses, listProcesses, type ProcessInfo } from '@wallcrawler/controller';
import { type PageServer, startPageServer, tempDir, waitFor } from '@wallcrawler/test-support';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

interface Command {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code (or 128 + the signal's number), once it exited. */
  exited: Promise<number>;
  /** The command's processes seen so far (its descendants), by pid. */
  seen: Map<number, ProcessInfo>;
  /** Records the command's descendants now alive. */
  census(): void;
  /** The command's TMPDIR, where every directory it makes goes. */
  tmp: { path: string; remove(): void };
}

const commands: Command[] = [];

/**
 * Starts `npm run aws:local` with `env`, on a free port unless `env` says otherwise. `group`: npm leads a process
 * group of its own, as a shell's foreground job does, so that a Ctrl-C can be sent to the whole group.
 */
function awsLocal(env: Record<string, string> = {}, { group = false } = {}): Command {
  const tmp = tempDir('wc-aws-local-test-');
  const child = spawn('npm', ['run', '--silent', 'aws:local'], {
    cwd: repoRoot,
    env: { ...process.env, TMPDIR: tmp.path, WALLCRAWLER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d));
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))),
  );
  const seen = new Map<number, ProcessInfo>();
  const census = () => {
    const table = listProcesses();
    const mine = new Set([child.pid]);
    // Parents come before their children often enough; a few passes settle any order.
    for (let pass = 0; pass < 5; pass++)
      for (const p of table) if (mine.has(p.ppid) && !mine.has(p.pid)) mine.add(p.pid);
    for (const p of table) if (p.pid !== child.pid && mine.has(p.pid)) seen.set(p.pid, p);
  };
  const command = { child, stdout: () => stdout, stderr: () => stderr, exited, seen, census, tmp };
  commands.push(command);
  return command;
}

/** What must hold once a command exited: none of its processes alive, nothing left in its TMPDIR. */
function expectNothingLeftOf(command: Command) {
  const alive = listProcesses().filter((p) => {
    const before = command.seen.get(p.pid);
    return before && before.cmdline === p.cmdline && p.state !== 'Z';
  });
  expect(alive.map((p) => `${p.pid} ${p.comm}`)).toEqual([]);
  expect(findProcesses(command.tmp.path)).toEqual([]);
  // tsx's compile cache (`tsx-<uid>`) is the loader's, kept between runs of every tsx program on purpose.
  expect(readdirSync(command.tmp.path).filter((name) => !/^tsx-\d+$/.test(name))).toEqual([]);
}

let pages: PageServer;
beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(() => pages?.close());
afterEach(async () => {
  // A failed test still stops its command and everything it started, so that nothing outlives the file: a SIGTERM
  // first (its own stop path), then SIGKILL for what is still alive. Killing npm alone would leave DynamoDB
  // Local's JVM, s3rver and the tasks running, since they are not in npm's process group.
  for (const command of commands.splice(0)) {
    if (command.child.exitCode === null && command.child.signalCode === null) {
      command.census();
      command.child.kill('SIGTERM');
      const stopped = await Promise.race([command.exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!stopped) command.child.kill('SIGKILL');
      await command.exited;
    }
    killSurvivors(command);
    command.tmp.remove();
  }
});

/** SIGKILLs whatever the command started that is still alive (the same pid with the same command line). */
function killSurvivors(command: Command) {
  for (const p of listProcesses()) {
    const before = command.seen.get(p.pid);
    if (!before || before.cmdline !== p.cmdline || p.state === 'Z') continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone in between.
    }
  }
}

// A cold start builds the controller image, synthesizes the stack and starts a JVM and two tasks: a minute or more
// on two busy cores.
/** Waits for the command's lines on stdout (four with the edge, three without); fails with its stderr if it exits first. */
async function readyLines(command: Command, count = 4): Promise<string[]> {
  await waitFor(() => command.stdout().split('\n').length > count || command.child.exitCode !== null, {
    timeout: 150_000,
    interval: 100,
    message: `the ${count} lines on stdout`,
  });
  const lines = command.stdout().trimEnd().split('\n');
  expect(lines, command.stderr()).toHaveLength(count);
  return lines;
}

const value = (line: string) => line.slice(line.indexOf('=') + 1);

it('serves the topology from the four lines it prints, clients over wss with its CA, then stops everything on SIGTERM', {
  timeout: 240_000,
}, async () => {
  const command = awsLocal();
  const lines = await readyLines(command);
  const [baseUrl = '', apiKey = '', stagehandUrl, caLine = ''] = lines;
  expect(baseUrl).toMatch(/^BROWSERBASE_BASE_URL=https:\/\/127\.0\.0\.1:\d+$/);
  expect(apiKey).toMatch(/^BROWSERBASE_API_KEY=wc_[\w-]+$/);
  const url = value(baseUrl);
  expect(stagehandUrl).toBe(`STAGEHAND_API_URL=${url}/v1`);
  expect(caLine).toMatch(new RegExp(`^NODE_EXTRA_CA_CERTS=${command.tmp.path}/.+\\.pem$`));
  command.census();

  // The user's script, with the printed lines as its environment: the CA is trusted from its start.
  const census = setInterval(command.census, 200);
  const script = fileURLToPath(new URL('../support/browse-once.mjs', import.meta.url));
  const env = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), value(line)]));
  const { NODE_EXTRA_CA_CERTS: _inherited, ...parentEnv } = process.env;
  const run = await promisify(execFile)(process.execPath, [script], {
    env: { ...parentEnv, ...env, PAGE_URL: `${pages.url}/title/aws-local` },
  }).finally(() => clearInterval(census));
  const browsed = JSON.parse(run.stdout) as { sessionId: string; connectUrl: string; title: string };
  expect(browsed.title).toBe('aws-local');
  expect(browsed.connectUrl).toMatch(new RegExp(`^wss://${new URL(url).host}/devtools/browser\\?signingKey=`));
  // The warm pool's task says which session claimed it, and how it learned (the controller's log, on stderr).
  const claimed = new RegExp(`"sessionId":"${browsed.sessionId}"[^\n]*"msg":"claimed"`);
  expect(command.stderr()).toMatch(claimed);
  // The edge relayed it (its log, on stderr).
  expect(command.stderr()).toMatch(new RegExp(`"service":"wallcrawler-edge"[^\n]*"sessionId":"${browsed.sessionId}"`));

  // What it started, which must all be gone after: DynamoDB Local's JVM, s3rver, the tasks (the controller's
  // entry command) and their Chromium.
  const started = [...command.seen.values()];
  expect(started.some((p) => p.comm === 'java')).toBe(true);
  expect(started.some((p) => p.cmdline.includes('s3rver'))).toBe(true);
  expect(started.some((p) => p.comm === 'node' && p.cmdline.includes('task/main'))).toBe(true);
  expect(started.some((p) => p.comm === 'node' && p.cmdline.includes('edge/main'))).toBe(true);
  expect(started.some((p) => /chrom/i.test(p.comm))).toBe(true);
  command.child.kill('SIGTERM');
  expect(await command.exited, command.stderr()).toBe(0);
  expect(command.stdout()).toBe(`${lines.join('\n')}\n`);
  expect(command.stderr()).not.toContain(value(apiKey));
  expectNothingLeftOf(command);
});

it('stops everything on a Ctrl-C, which reaches npm, the command and its tasks at once', {
  timeout: 240_000,
}, async () => {
  // Direct mode (no edge): clients get each task's address over plain ws.
  const command = awsLocal({ WALLCRAWLER_POOL_SIZE: '1', WALLCRAWLER_CONNECT: 'direct' }, { group: true });
  const [baseUrl = '', apiKey = ''] = await readyLines(command, 3);
  expect(baseUrl).toMatch(/^BROWSERBASE_BASE_URL=http:\/\//);
  const bb = new Browserbase({ apiKey: value(apiKey), baseURL: value(baseUrl), maxRetries: 0 });
  const session = await bb.sessions.create({});
  const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
  const [page] = await browser.pages();
  await page?.goto(pages.url);
  command.census();
  // A terminal's Ctrl-C: SIGINT to every process of the foreground group. npm forwards its own to the command,
  // so the command gets two.
  process.kill(-(command.child.pid as number), 'SIGINT');
  expect(await command.exited, command.stderr()).toBe(0);
  browser.disconnect().catch(() => {});
  expect(command.stderr()).toContain('SIGINT: stopping');
  expect(command.stderr()).not.toContain('killing the tasks');
  expectNothingLeftOf(command);
});

it('refuses a port already taken, with a clear error and nothing started', async () => {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as { port: number };
  try {
    const command = awsLocal({ WALLCRAWLER_PORT: String(port) });
    const timer = setInterval(command.census, 50);
    const code = await command.exited;
    clearInterval(timer);
    expect(code).toBe(2);
    expect(command.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(command.stdout()).toBe('');
    expectNothingLeftOf(command);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

it('refuses a pool size that is not a small count', async () => {
  const command = awsLocal({ WALLCRAWLER_POOL_SIZE: 'two' });
  expect(await command.exited).toBe(2);
  expect(command.stderr()).toContain('WALLCRAWLER_POOL_SIZE must be an integer from 0 to 20, not "two"');
  expect(command.stdout()).toBe('');
  expectNothingLeftOf(command);
});

it('refuses a Chromium that is not there, before it starts anything', async () => {
  const command = awsLocal({ WALLCRAWLER_CHROME_PATH: '/nonexistent/chromium' });
  const timer = setInterval(command.census, 50);
  const code = await command.exited;
  clearInterval(timer);
  expect(code).toBe(1);
  expect(command.stderr()).toContain('Chromium was not found at /nonexistent/chromium (WALLCRAWLER_CHROME_PATH)');
  expect(command.stdout()).toBe('');
  expect([...command.seen.values()].filter((p) => p.comm === 'java')).toEqual([]);
  expectNothingLeftOf(command);
});
