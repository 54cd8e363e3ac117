import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionDirs } from '@wallcrawler/controller';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { BrowserStartRequest, SessionEnding } from '../../src/ports/browser-provider.js';
import { MemoryBrowserProvider } from '../support/memory-browser-provider.js';
import { sessionRecord } from '../support/records.js';

/**
 * The in-memory provider that the app tests run on keeps the port's contract as the local provider does: one
 * ending per session, recorded before `release` answers, what the session kept handed over, then its directories
 * deleted and `onGone` called; a timeout at `expiresAt`; nothing left after any ending.
 */

const dataDir = tempDir('wallcrawler-memory-provider-');
const provider = new MemoryBrowserProvider({ dataDir: dataDir.path });
afterEach(async () => {
  await provider.shutdown('the test ended');
  await expectNothingLeft(dataDir.path);
  expect(provider.errors).toEqual([]);
});
afterAll(() => dataDir.remove());

/** A start request whose hooks note what happened, in order. */
function request(overrides: Partial<BrowserStartRequest> = {}, expiresInMs = 300_000) {
  const events: string[] = [];
  const endings: SessionEnding[] = [];
  const now = new Date();
  const session = sessionRecord('project', { expiresAt: new Date(now.getTime() + expiresInMs) });
  const start: BrowserStartRequest = {
    session,
    onEnd: async (ending) => {
      events.push(`end ${ending.status}`);
      endings.push(ending);
    },
    onGone: () => {
      events.push(existsSync(sessionDirs(dataDir.path, session.id).root) ? 'gone, dirs left' : 'gone');
    },
    ...overrides,
  };
  return { start, session, events, endings };
}

it('runs a session until its release, which answers once the ending is recorded, then leaves nothing', async () => {
  const { start, session, events, endings } = request({
    downloads: { maxBytes: 1024, keep: async (dir) => void events.push(`keep downloads ${existsSync(dir)}`) },
    logs: { maxBytes: 1024, keep: async (entries) => void events.push(`keep ${entries.length} log entries`) },
  });
  expect(await provider.start(start)).toBeUndefined();
  expect(provider.isRunning(session)).toBe(true);
  expect(provider.running).toEqual([session.id]);
  expect(await provider.targets(session)).toEqual([
    { id: `page-${session.id}`, type: 'page', title: '', url: 'about:blank' },
  ]);
  expect(await provider.files(session)?.logs()).toEqual([]);
  expect(await provider.files(session)?.recording()).toBeUndefined();

  const path = await provider.upload(session, '../../etc/passwd', new TextEncoder().encode('x'));
  expect(path).toBe(join(sessionDirs(dataDir.path, session.id).uploads, 'passwd'));
  expect(readFileSync(path, 'utf8')).toBe('x');

  const ending = await provider.release(session, 'released by the test');
  expect(ending).toMatchObject({ status: 'COMPLETED', reason: 'released by the test' });
  expect(endings).toEqual([ending]);
  expect(provider.isRunning(session)).toBe(false);
  expect(provider.files(session)).toBeUndefined();
  await expect(provider.upload(session, 'late.txt', new Uint8Array(1))).rejects.toThrow(/is not running/);
  // A second release, and the timeout, change nothing.
  expect(await provider.release(session, 'again')).toEqual(ending);
  await waitFor(() => events.at(-1)?.startsWith('gone'), { message: 'the session to be gone' });
  expect(events).toEqual(['end COMPLETED', 'keep downloads true', 'keep 0 log entries', 'gone']);
  expect(await provider.release(session, 'after it was gone')).toBeUndefined();
});

it('ends a session as TIMED_OUT at its expiresAt', async () => {
  const { start, session, events, endings } = request({}, 50);
  await provider.start(start);
  await waitFor(() => events.includes('gone'), { message: 'the timeout' });
  expect(endings).toMatchObject([{ status: 'TIMED_OUT', reason: 'The session reached its timeout' }]);
  expect(provider.isRunning(session)).toBe(false);
});

it("fills a context's profile before the start and saves it before the ending, whose reason takes its note", async () => {
  const { start, session, events, endings } = request({
    profile: {
      hydrate: async (dir) => {
        await writeFile(join(dir, 'Cookies'), 'saved');
        events.push('hydrate');
      },
      persist: async (dir) => {
        events.push(`persist ${readFileSync(join(dir, 'Cookies'), 'utf8')}`);
        return 'the context was too large to save';
      },
    },
    extensions: [
      {
        id: 'ext',
        unpack: async (dir) => {
          await mkdir(dir, { recursive: true });
          events.push(`unpack into ${dir.slice(dataDir.path.length)}`);
        },
      },
    ],
  });
  await provider.start(start);
  const ending = await provider.release(session, 'released');
  expect(ending?.reason).toBe('released; the context was too large to save');
  expect(endings).toEqual([ending]);
  await waitFor(() => events.includes('gone'), { message: 'the session to be gone' });
  expect(events).toEqual([
    'hydrate',
    `unpack into /sessions/${session.id}/extensions/ext`,
    'persist saved',
    'end COMPLETED',
    'gone',
  ]);
});

it('leaves nothing when the start fails, and reconciles what is not running', async () => {
  const { start, session } = request({
    profile: {
      hydrate: async () => {
        throw new Error('the archive is corrupt');
      },
    },
  });
  await expect(provider.start(start)).rejects.toThrow('the archive is corrupt');
  expect(provider.isRunning(session)).toBe(false);
  await expectNothingLeft(dataDir.path);

  const live = request();
  await provider.start(live.start);
  // A directory a previous run left, and a session the store thinks runs.
  await mkdir(sessionDirs(dataDir.path, 'left-behind').profile, { recursive: true });
  expect(await provider.reconcile([live.session, session])).toEqual([session.id]);
  expect(existsSync(sessionDirs(dataDir.path, 'left-behind').root)).toBe(false);
  expect(provider.isRunning(live.session)).toBe(true);
});
