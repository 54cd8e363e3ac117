import type { ChildProcess } from 'node:child_process';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { startTestServer, type TestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/api-keys.js';
import { VERSION } from '../../src/version.js';
import { cli, cliAll, cliEnv, type Run, spawnCli } from '../support/cli.js';

/**
 * The real `wallcrawler` CLI, run as a child process from its TypeScript source (the same entry `bin` points at
 * once built), against a temporary data dir. Its commands against DynamoDB are cli-dynamodb.test.ts.
 */

/** The API through the server `t`, with `key`. */
async function api(t: TestServer, path: string, key: string) {
  const response = await fetch(`${t.url}${path}`, { headers: { 'x-wc-api-key': key } });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('projects and keys', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let project: { id: string; name: string; concurrency: number; defaultTimeout: number };
  let created: { key: string; id: string; name: string; projectIds: string[] };

  // The CLI writes into the data dir of a running server, as an operator would.
  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t.dataDir);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('projects create --json prints the new project', async () => {
    const run = await cli(['projects', 'create', '--name', 'x', '--concurrency', '2', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    project = JSON.parse(run.stdout);
    expect(project).toEqual({
      id: expect.any(String),
      name: 'x',
      ownerId: 'local',
      concurrency: 2,
      defaultTimeout: 300,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await t.store.getProject(project.id)).toMatchObject({ name: 'x', concurrency: 2 });
  });

  it('projects list --json lists the default project and the new one', async () => {
    const run = await cli(['projects', 'list', '--json'], env);
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as { id: string; name: string }[];
    expect(list.map((p) => p.id)).toEqual([t.projectId, project.id]);
    expect(list.map((p) => p.name)).toEqual(['default', 'x']);
  });

  it('keys create --project --json prints a key that works against the running server for that project', async () => {
    const run = await cli(['keys', 'create', '--project', project.id, '--name', 'ci', '--json'], env);
    expect(run.code).toBe(0);
    created = JSON.parse(run.stdout);
    expect(created).toEqual({
      key: expect.stringMatching(/^wc_/),
      id: expect.any(String),
      name: 'ci',
      projectIds: [project.id],
    });

    const projects = await api(t, '/v1/projects', created.key);
    expect(projects.status).toBe(200);
    expect((projects.body as { id: string }[]).map((p) => p.id)).toEqual([project.id]);
    expect(await api(t, '/v1/sessions', created.key)).toEqual({ status: 200, body: [] });
    // Scoped to its project: the default one is not visible with it.
    expect((await api(t, `/v1/projects/${t.projectId}`, created.key)).status).toBe(404);
  });

  it('keys list --json shows the keys without their secret or hash', async () => {
    const run = await cli(['keys', 'list', '--json'], env);
    expect(run.code).toBe(0);
    const keys = JSON.parse(run.stdout) as Record<string, unknown>[];
    const listed = keys.find((k) => k.id === created.id);
    expect(listed).toMatchObject({
      id: created.id,
      name: 'ci',
      projectIds: [project.id],
      prefix: created.key.slice(0, 7),
    });
    for (const k of keys) expect(k).not.toHaveProperty('hash');
    expect(run.stdout).not.toContain(created.key);
    expect(run.stdout).not.toContain(hashApiKey(created.key));
    expect(run.stdout).not.toContain(t.apiKey);
    expect(run.stdout).not.toContain(hashApiKey(t.apiKey));
  });

  it('keys revoke makes the key answer 401 revoked_api_key', async () => {
    const run = await cli(['keys', 'revoke', created.id], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Revoked ${created.id}`);

    // The running server trusts a key it looked up for at most 2 s (its key cache).
    const after = await waitFor(
      async () => {
        const answer = await api(t, '/v1/projects', created.key);
        return answer.status === 401 && answer;
      },
      { timeout: 4_000, interval: 100, message: 'the revoked key to be refused' },
    );
    expect(after.body).toMatchObject({ statusCode: 401, code: 'revoked_api_key' });
    // The other keys are untouched.
    expect((await api(t, '/v1/projects', t.apiKey)).status).toBe(200);

    const list = JSON.parse((await cli(['keys', 'list', '--json'], env)).stdout) as Record<string, unknown>[];
    expect(list.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String));
  });

  it('answers usage errors with exit code 2 and a helpful message, changing nothing', async () => {
    const before = (await t.store.listProjects()).length;
    const cases: { args: string[]; message: RegExp }[] = [
      { args: ['projects', 'create'], message: /projects create needs --name/ },
      {
        args: ['projects', 'create', '--name', 'z', '--concurrency', '0'],
        message: /--concurrency must be a positive whole number, got "0"/,
      },
      {
        args: ['projects', 'create', '--name', 'z', '--default-timeout', '30'],
        message: /--default-timeout must be between 60 and 21600/,
      },
      { args: ['projects', 'create', '--name', 'z', '--colour', 'red'], message: /Unknown option '--colour'/ },
      { args: ['frobnicate'], message: /Unknown command "frobnicate"/ },
      { args: ['keys', 'create', '--project', 'proj_nowhere'], message: /Unknown project\(s\): proj_nowhere/ },
      { args: ['keys', 'revoke'], message: /keys revoke needs the key id/ },
      { args: ['keys', 'revoke', 'key_nowhere'], message: /No key key_nowhere/ },
    ];
    const runs = await cliAll(
      cases.map(({ args }) => args),
      env,
    );
    runs.forEach((run, i) => {
      const { args, message } = cases[i] as (typeof cases)[number];
      const where = `wallcrawler ${args.join(' ')} → ${run.code}\n${run.stderr}`;
      expect(run.code, where).toBe(2);
      expect(run.stderr, where).toMatch(message);
      expect(run.stderr, where).toContain('Run `wallcrawler help` for usage.');
      expect(run.stdout, where).toBe('');
    });
    expect((await t.store.listProjects()).length).toBe(before);
  });

  it('prints its version and its help', async () => {
    const [version, help, dashHelp] = (await cliAll([['--version'], ['help'], ['--help']], env)) as [Run, Run, Run];
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(help.code).toBe(0);
    for (const command of ['wallcrawler start', 'projects create --name', 'keys create', 'keys list', 'keys revoke']) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain('WALLCRAWLER_DATA_DIR');
    expect(dashHelp.stdout).toBe(help.stdout);
  });
});

describe('wallcrawler start', () => {
  const data = tempDir('wallcrawler-cli-');
  const children: ChildProcess[] = [];

  afterAll(() => {
    // Only if a test failed half-way: the children this file started, by pid.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    data.remove();
  });

  /** Starts the server and waits for its banner (written in one piece once it listens). */
  async function start() {
    const run = spawnCli(['start'], cliEnv(data.path, { WALLCRAWLER_PORT: '0', WALLCRAWLER_LOG_LEVEL: 'warn' }));
    children.push(run.child);
    const banner = await waitFor(
      () => {
        const { stderr, code } = run.output();
        if (code !== null) throw new Error(`wallcrawler start exited with ${code}: ${stderr}`);
        return /listening on (http:\/\/\S+)\n[\s\S]*chromium: .*\n/.test(stderr) ? stderr : undefined;
      },
      { timeout: 30_000, message: 'the start banner' },
    );
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] as string;
    return { ...run, banner, url };
  }

  async function stop(run: Awaited<ReturnType<typeof start>>) {
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(result.stderr).toContain('Stopping (SIGINT)');
    expect(result).toMatchObject({ code: 0, signal: null });
  }

  it('prints a generated key once on first start, and SIGINT ends it with exit code 0', async () => {
    const first = await start();
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.banner).toContain('Created the default project');
    const key = /export WALLCRAWLER_API_KEY=(\S+)/.exec(first.banner)?.[1];
    expect(key).toMatch(/^wc_/);
    expect(first.banner).toContain(`export WALLCRAWLER_BASE_URL=${first.url}`);

    const health = await fetch(`${first.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', version: VERSION });
    const projects = await fetch(`${first.url}/v1/projects`, { headers: { 'x-wc-api-key': key as string } });
    expect(projects.status).toBe(200);
    expect(((await projects.json()) as { name: string }[]).map((p) => p.name)).toEqual(['default']);
    await stop(first);

    const second = await start();
    expect(second.banner).not.toContain('WALLCRAWLER_API_KEY');
    expect(second.banner).not.toContain('Created');
    // The key printed the first time still works.
    const again = await fetch(`${second.url}/v1/projects`, { headers: { 'x-wc-api-key': key as string } });
    expect(again.status).toBe(200);
    await stop(second);
    expect(second.output().stderr).not.toContain(key as string);
  });

  it('ends its sessions on SIGTERM even when its stdout and stderr readers are gone', async () => {
    const run = await start();
    const withKey = spawnCli(['keys', 'create', '--json'], cliEnv(data.path));
    const { key } = JSON.parse((await withKey.exited).stdout) as { key: string };
    const created = await fetch(`${run.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-wc-api-key': key, 'content-type': 'application/json' },
      body: '{"keepAlive":true}',
    });
    expect(created.status).toBe(201);
    // A log collector or terminal that went away: writes now fail with EPIPE.
    run.child.stdout?.destroy();
    run.child.stderr?.destroy();
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(0);
    await expectNothingLeft(data.path);
  });
});

describe('sessions ls and sessions watch', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let sessionId: string;

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t.dataDir);
    const response = await fetch(`${t.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-wc-api-key': t.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ keepAlive: true, userMetadata: { run: 'cli' } }),
    });
    sessionId = ((await response.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sessions ls lists the sessions of every project, filtered by --status, as text or --json', async () => {
    const [text, json, completed] = await cliAll(
      [
        ['sessions', 'ls'],
        ['sessions', 'ls', '--json'],
        ['sessions', 'ls', '--status', 'COMPLETED'],
      ],
      env,
    );
    expect(text?.code).toBe(0);
    expect(text?.stdout).toMatch(new RegExp(`${sessionId}\\s+RUNNING`));
    const rows = JSON.parse(json?.stdout ?? '[]') as { id: string; status: string; projectId: string }[];
    expect(rows).toEqual([expect.objectContaining({ id: sessionId, status: 'RUNNING', projectId: t.projectId })]);
    expect(completed?.stdout).not.toContain(sessionId);
    const bad = await cli(['sessions', 'ls', '--status', 'DONE'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status must be one of');
  });

  it('sessions watch shows the live sessions, refreshing, and stops after --count refreshes', async () => {
    const run = await cli(['sessions', 'watch', '--interval', '100', '--count', '3'], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split(sessionId).length - 1).toBe(3);
    expect(run.stdout).toContain('RUNNING');
    expect(run.stdout).toMatch(/1 running, 0 pending/);
    await fetch(`${t.url}/v1/sessions/${sessionId}`, {
      method: 'POST',
      headers: { 'x-wc-api-key': t.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
    });
    const after = await cli(['sessions', 'watch', '--count', '1'], env);
    expect(after.stdout).toContain('No live sessions');
    await expectNothingLeft(t.dataDir);
  });
});
