import { isAbsolute } from 'node:path';
import { expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config.js';
import { defaultMaxSessions, defaultPoolSize } from '../../src/services/host-admission.js';

it('defaults to loopback, port 3000 and ./.wallcrawler', () => {
  const config = loadServerConfig({});
  expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, logLevel: 'info', disconnectGraceMs: 5000 });
  expect(isAbsolute(config.dataDir)).toBe(true);
  expect(config.dataDir.endsWith('.wallcrawler')).toBe(true);
  expect(config.apiKey).toBeUndefined();
  expect(config.unsupportedFields).toBe('refuse');
  expect(config.admission.maxSessions).toBeGreaterThanOrEqual(1);
  expect(config.admission).toMatchObject({ queueSize: 20, queueTimeoutMs: 30_000 });
  expect(config.launchTimeoutMs).toBe(30_000);
});

it('takes a launch timeout of a second or more', () => {
  expect(loadServerConfig({ WALLCRAWLER_LAUNCH_TIMEOUT_MS: '5000' }).launchTimeoutMs).toBe(5_000);
  expect(() => loadServerConfig({ WALLCRAWLER_LAUNCH_TIMEOUT_MS: '10' })).toThrow(/WALLCRAWLER_LAUNCH_TIMEOUT_MS/);
});

it('sizes the host limit from memory and CPUs, whichever is lower', () => {
  const gib = 2 ** 30;
  expect(defaultMaxSessions({ memoryBytes: 24 * gib, cpus: 2 })).toBe(16);
  expect(defaultMaxSessions({ memoryBytes: 2 * gib, cpus: 8 })).toBe(6);
  expect(defaultMaxSessions({ memoryBytes: 0.5 * gib, cpus: 0.5 })).toBe(1);
  expect(loadServerConfig({ WALLCRAWLER_MAX_SESSIONS: '3' }).admission.maxSessions).toBe(3);
});

it('sizes the warm pool from the free memory and CPUs, and takes 0 to turn it off', () => {
  const gib = 2 ** 30;
  const host = (memoryBytes: number, cpus: number) => ({ memoryBytes, cpus });
  expect(defaultPoolSize(host(24 * gib, 2), 20 * gib)).toBe(2);
  expect(defaultPoolSize(host(64 * gib, 16), 60 * gib)).toBe(4);
  // Little free memory, or a cgroup limit below what the machine has free.
  expect(defaultPoolSize(host(24 * gib, 8), 1.6 * gib)).toBe(2);
  expect(defaultPoolSize(host(1 * gib, 8), 20 * gib)).toBe(1);
  expect(defaultPoolSize(host(24 * gib, 4), 0.9 * gib)).toBe(0);
  expect(defaultPoolSize(host(24 * gib, 0.5), 20 * gib)).toBe(0);
  expect(loadServerConfig({ WALLCRAWLER_POOL_SIZE: '0' }).poolSize).toBe(0);
  expect(loadServerConfig({ WALLCRAWLER_POOL_SIZE: '3' }).poolSize).toBe(3);
  expect(() => loadServerConfig({ WALLCRAWLER_POOL_SIZE: '-1' })).toThrow(/WALLCRAWLER_POOL_SIZE/);
});

it('treats empty variables as unset', () => {
  expect(loadServerConfig({ WALLCRAWLER_PORT: '', WALLCRAWLER_API_KEY: '' })).toMatchObject({ port: 3000 });
});

it('lists every invalid variable at once', () => {
  const attempt = () =>
    loadServerConfig({
      WALLCRAWLER_PORT: 'http',
      WALLCRAWLER_API_KEY: 'short',
      WALLCRAWLER_PUBLIC_URL: 'ftp://x',
      WALLCRAWLER_LOG_LEVEL: 'loud',
      WALLCRAWLER_UNSUPPORTED_FIELDS: 'maybe',
      WALLCRAWLER_MAX_SESSIONS: '0',
    });
  expect(attempt).toThrow(/WALLCRAWLER_PORT/);
  expect(attempt).toThrow(/WALLCRAWLER_API_KEY: must be at least 16 characters/);
  expect(attempt).toThrow(/WALLCRAWLER_PUBLIC_URL/);
  expect(attempt).toThrow(/WALLCRAWLER_LOG_LEVEL/);
  expect(attempt).toThrow(/WALLCRAWLER_UNSUPPORTED_FIELDS/);
  expect(attempt).toThrow(/WALLCRAWLER_MAX_SESSIONS/);
});

it('normalises the public URL', () => {
  expect(loadServerConfig({ WALLCRAWLER_PUBLIC_URL: 'https://browsers.example.com/' }).publicUrl).toBe(
    'https://browsers.example.com',
  );
});

it('reads the server-wide model endpoint, base URL and model together', () => {
  expect(loadServerConfig({}).model).toBeUndefined();
  const config = loadServerConfig({
    WALLCRAWLER_MODEL_BASE_URL: 'http://127.0.0.1:11434/v1/',
    WALLCRAWLER_MODEL_NAME: 'qwen',
    WALLCRAWLER_MODEL_API: 'chat',
  });
  expect(config.model).toEqual({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'qwen', api: 'chat' });
  expect(
    loadServerConfig({
      WALLCRAWLER_MODEL_BASE_URL: 'https://x/v1',
      WALLCRAWLER_MODEL_NAME: 'm',
      WALLCRAWLER_MODEL_API_KEY: 'k',
    }).model,
  ).toEqual({ baseUrl: 'https://x/v1', model: 'm', api: 'responses', apiKey: 'k' });
  expect(() => loadServerConfig({ WALLCRAWLER_MODEL_BASE_URL: 'https://x/v1' })).toThrow(/WALLCRAWLER_MODEL_NAME/);
  expect(() => loadServerConfig({ WALLCRAWLER_MODEL_NAME: 'm', WALLCRAWLER_MODEL_API: 'soap' })).toThrow(
    /WALLCRAWLER_MODEL_API/,
  );
});
