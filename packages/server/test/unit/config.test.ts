import { isAbsolute } from 'node:path';
import { expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config.js';
import { defaultMaxSessions } from '../../src/services/host-admission.js';

it('defaults to loopback, port 3000 and ./.wallcrawler', () => {
  const config = loadServerConfig({});
  expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, logLevel: 'info', disconnectGraceMs: 5000 });
  expect(isAbsolute(config.dataDir)).toBe(true);
  expect(config.dataDir.endsWith('.wallcrawler')).toBe(true);
  expect(config.apiKey).toBeUndefined();
  expect(config.unsupportedFields).toBe('refuse');
  expect(config.admission.maxSessions).toBeGreaterThanOrEqual(1);
  expect(config.admission).toMatchObject({ queueSize: 20, queueTimeoutMs: 30_000 });
});

it('sizes the host limit from memory and CPUs, whichever is lower', () => {
  const gib = 2 ** 30;
  expect(defaultMaxSessions({ memoryBytes: 24 * gib, cpus: 2 })).toBe(16);
  expect(defaultMaxSessions({ memoryBytes: 2 * gib, cpus: 8 })).toBe(6);
  expect(defaultMaxSessions({ memoryBytes: 0.5 * gib, cpus: 0.5 })).toBe(1);
  expect(loadServerConfig({ WALLCRAWLER_MAX_SESSIONS: '3' }).admission.maxSessions).toBe(3);
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
