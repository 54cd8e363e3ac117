/**
 * The controller's real image, built by `npm run image` (its CI step, `npm run test:image`, builds it first), run by
 * this machine's container engine:
 *
 * - its configuration: tini as PID 1, the non-root user with a home, the HEALTHCHECK, and no npm;
 * - one session, as a task started for a create runs it: a client connects with a token signed by the
 *   controller's own signer and loads a page, and the bundled Stagehand attaches and navigates; the engine's
 *   stop sends SIGTERM, the close path ends the session, and the container exits 0;
 * - the warm-pool mode: the AWS topology on this machine (DynamoDB Local, s3rver, the local ECS endpoint and the
 *   API function) with its tasks run in the image, not as processes. A pool task (RunTask with the pool's group,
 *   as the pool's service starts it) is this image's container; it registers idle in the tasks table, and a
 *   create through the API claims it, exactly as on AWS.
 *
 * Every container carries this run's label; none may be left at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Browserbase from '@browserbasehq/sdk';
import { CONTROLLER_ENV as E, signConnectToken } from '@wallcrawler/contracts';
import { listProcesses } from '@wallcrawler/controller';
import { freePort, type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { startAwsTopology } from '@wallcrawler/test-support/aws-topology';
import { inContainer, labelled, removeLabelled, runContainer } from '@wallcrawler/test-support/controller-container';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONTROLLER_IMAGE, type ContainerEngine, detectEngine, output } from '../../../../scripts/container-engine.js';

const label = `image-test-${process.pid}`;
let engine: ContainerEngine;
let pages: PageServer;

beforeAll(async () => {
  const found = detectEngine();
  if (!found?.canRun)
    throw new Error('No container engine that runs containers (Docker or Podman): `npm run image -- --install-tools`');
  engine = found;
  if (!engine.hasImage(CONTROLLER_IMAGE)) throw new Error(`No image ${CONTROLLER_IMAGE}: run \`npm run image\` first`);
  pages = await startPageServer();
});

afterAll(async () => {
  await pages?.close();
  if (!engine) return;
  // Nothing left: no container of this run, and no browser of the image's (its profiles are under its home).
  const ids = labelled(engine, label);
  removeLabelled(engine, label);
  expect(ids, 'containers this run left behind').toEqual([]);
  const browsers = listProcesses().filter((p) => p.cmdline.includes('--user-data-dir=/home/wallcrawler/'));
  expect(browsers.map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`)).toEqual([]);
});

const inImage = (...args: string[]) =>
  output(engine.name, [...engine.runArgs(), '--rm', '--label', `wallcrawler.test=${label}`, ...args]);

describe('the image', () => {
  it('runs tini as PID 1 and the controller as a non-root user with a home, checks its health, and has no npm', () => {
    const config = JSON.parse(output(engine.name, engine.args('image', 'inspect', CONTROLLER_IMAGE)))[0];
    expect(config.Config.Entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(config.Config.Cmd).toEqual(['node', 'dist/task/main.js']);
    expect(config.Config.User).toBe('wallcrawler');
    // Kept only in the docker format (`npm run image` builds it so with Podman).
    expect((config.Config.Healthcheck ?? config.Healthcheck)?.Test).toEqual(['CMD', 'node', 'dist/task/health.js']);
    const probe = inImage(
      '--entrypoint',
      'sh',
      CONTROLLER_IMAGE,
      '-c',
      'id -un; echo "$HOME"; test -w "$HOME" && echo writable; command -v npm || echo no-npm; ' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
        "dpkg-query -W -f '${Package}\\n' | grep -c -E '^(npm|webpack|node-.*)$' || true; node --version",
    ).split('\n');
    expect(probe.slice(0, 4)).toEqual(['wallcrawler', '/home/wallcrawler', 'writable', 'no-npm']);
    // Debian's nodejs itself depends on a few node-* libraries (acorn, undici…); npm's hundred are gone.
    expect(Number(probe[4])).toBeLessThan(10);
    expect(probe[5]).toMatch(/^v2\d\./);
  });

  it('serves one session: a client with a token from the controller signer loads a page, Stagehand navigates; a stop ends it, exit 0', async () => {
    const secret = randomBytes(32);
    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + 300_000);
    const port = await freePort();
    const container = runContainer(engine, CONTROLLER_IMAGE, label, {
      [E.sessionId]: sessionId,
      [E.projectId]: 'project-image',
      [E.connectSecret]: secret.toString('base64url'),
      [E.expiresAt]: expiresAt.toISOString(),
      [E.host]: '127.0.0.1',
      [E.port]: String(port),
    });
    try {
      await waitFor(() => container.output().includes('"session ready"'), {
        timeout: 45_000,
        message: 'the session to be ready in the container',
      }).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${container.output()}`);
      });
      // tini is PID 1, and the controller its child.
      expect(output(engine.name, engine.args('exec', container.name, 'cat', '/proc/1/comm')).trim()).toBe('tini');
      // The HEALTHCHECK's command passes while the session runs.
      expect(output(engine.name, engine.args('exec', container.name, 'node', 'dist/task/health.js')).trim()).toBe('');

      const token = await signConnectToken(secret, { sessionId, projectId: 'project-image', expiresAt });
      const browser = await puppeteer.connect({
        browserWSEndpoint: `ws://127.0.0.1:${port}/?signingKey=${token}`,
        defaultViewport: null,
      });
      const page = await browser.newPage();
      await page.goto(`${pages.url}/title/in-the-image`);
      expect(await page.title()).toBe('in-the-image');
      // The image's fonts render text: the heading has a width.
      expect(await page.evaluate(() => document.querySelector('h1')?.getBoundingClientRect().width)).toBeGreaterThan(
        100,
      );

      // Stagehand, bundled and loaded only when a session uses it, attaches and navigates (no model call).
      const stagehand = (operation: string, body: unknown) =>
        fetch(`http://127.0.0.1:${port}/stagehand/${operation}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await stagehand('start', { modelName: 'openai/gpt-4.1-mini' })).status).toBe(200);
      const navigated = await stagehand('navigate', { url: `${pages.url}/title/stagehand-in-the-image` });
      expect({ status: navigated.status, body: await navigated.json() }).toMatchObject({
        status: 200,
        body: { success: true },
      });
      expect((await browser.pages()).map((p) => p.url())).toContain(`${pages.url}/title/stagehand-in-the-image`);
      expect((await stagehand('end', {})).status).toBe(200);

      // The engine's stop sends SIGTERM to PID 1, which tini forwards to the controller.
      output(engine.name, engine.args('stop', '--time', '30', container.name));
      expect(await container.exited).toBe(0);
      await browser.disconnect().catch(() => {});
      const exiting = container
        .output()
        .split('\n')
        .find((line) => line.includes('"controller exiting"'));
      expect(JSON.parse(exiting ?? '{}')).toMatchObject({
        status: 'COMPLETED',
        reason: 'The controller received SIGTERM',
      });
    } finally {
      container.process.kill('SIGKILL');
      removeLabelled(engine, label);
    }
  });

  it('waits in the warm pool against DynamoDB Local, and a create through the API claims it', async () => {
    const aws = await startAwsTopology({
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      readyTimeoutMs: 30_000,
      // Direct: the subject is the container as a pool task; the edge's path is the distributed suite's.
      connect: 'direct',
      taskEnv: { [E.disconnectGraceMs]: '300' },
      container: inContainer(engine, CONTROLLER_IMAGE, label),
    });
    try {
      await aws.prewarm(1).catch((error: Error) => {
        throw new Error(
          `${error.message}; the tasks' output:\n${aws.ecs
            .tasks()
            .map((t) => t.output)
            .join('\n')}`,
        );
      });
      const [idle] = await aws.poolTasks();
      expect(idle?.status).toBe('IDLE');
      const task = () => aws.ecs.tasks().find((t) => t.taskArn === idle?.taskArn);
      // The pool task is the image's container (its command is the engine's run).
      await waitFor(() => task()?.output.includes('idle in the warm pool'), { message: "the task's idle log line" });
      expect(labelled(engine, label)).toHaveLength(1);

      const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
      const tasksBefore = aws.ecs.tasks().length;
      const session = await bb.sessions.create({ projectId: aws.projectId });
      expect(session.status).toBe('RUNNING');
      expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
      expect((await aws.poolTasks()).find((t) => t.taskArn === idle?.taskArn)).toMatchObject({
        status: 'CLAIMED',
        sessionId: session.id,
      });
      await waitFor(() => task()?.output.includes('"claimed"'), { message: "the task's claimed log line" });

      const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
      const page = await browser.newPage();
      await page.goto(`${pages.url}/title/pooled-in-the-image`);
      expect(await page.title()).toBe('pooled-in-the-image');
      await browser.disconnect();

      await waitFor(async () => (await bb.sessions.retrieve(session.id)).status === 'COMPLETED', {
        timeout: 30_000,
        message: 'the session to end when its client left',
      });
      await aws.ecs.waitStopped(idle?.taskArn as string);
      expect(task()?.exitCode).toBe(0);
      expect((await aws.poolTasks()).find((t) => t.taskArn === idle?.taskArn)?.status).toBe('RETIRED');
      await waitFor(() => labelled(engine, label).length === 0, { message: 'the container to be removed' });
    } finally {
      await aws.close();
      removeLabelled(engine, label);
    }
  });
});
