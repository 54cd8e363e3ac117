import { readFileSync } from 'node:fs';
import Browserbase from '@browserbasehq/sdk';
import { describe, expect, it } from 'vitest';
import { NOT_SUPPORTED_CALLS } from '../support/not-supported-calls.js';

/**
 * docs/compatibility.md lists every method of the installed `@browserbasehq/sdk` with its treatment. The methods
 * are found at run time: every resource object the client holds (and theirs, for sub-resources such as
 * `sessions.recording.downloads`), and every function on their prototypes. A new SDK with a method the table
 * misses, or a table row for a method that does not exist, fails here.
 */

const TABLE = readFileSync(new URL('../../../../docs/compatibility.md', import.meta.url), 'utf8');
const TREATMENTS = ['supported', 'partly', '501 not_supported', 'planned'];
/** 501 methods whose own tests live elsewhere (the HLS page: recording.e2e.test.ts). */
const OTHER_501 = ['sessions.replays.retrievePage'];

/** `resource.method` (and `resource.sub.method`) of every method the client's resources have. */
function sdkMethods(client: Browserbase): string[] {
  const methods: string[] = [];
  const walk = (holder: object, prefix: string) => {
    for (const [name, value] of Object.entries(holder)) {
      // A resource holds the client it was made by; nothing else among the client's fields does.
      if (typeof value !== 'object' || value === null || (value as { _client?: unknown })._client !== client) continue;
      const path = prefix ? `${prefix}.${name}` : name;
      for (
        let proto = Object.getPrototypeOf(value);
        proto && proto !== Object.prototype;
        proto = Object.getPrototypeOf(proto)
      ) {
        for (const method of Object.getOwnPropertyNames(proto)) {
          if (method !== 'constructor' && typeof proto[method] === 'function') methods.push(`${path}.${method}`);
        }
      }
      walk(value, path);
    }
  };
  walk(client, '');
  return [...new Set(methods)].sort();
}

/** The table's rows: method → treatment. */
function tableRows(): Map<string, string> {
  const start = TABLE.indexOf('<!-- sdk-methods:start -->');
  const end = TABLE.indexOf('<!-- sdk-methods:end -->');
  expect(start, 'the table markers are in docs/compatibility.md').toBeGreaterThan(-1);
  const rows = new Map<string, string>();
  for (const line of TABLE.slice(start, end).split('\n')) {
    const cells = /^\| `([^`]+)` \| `[^`]+` \| ([^|]+) \|/.exec(line);
    if (!cells?.[1] || !cells[2]) continue;
    expect(rows.has(cells[1]), `${cells[1]} is listed once`).toBe(false);
    rows.set(cells[1], cells[2].trim());
  }
  return rows;
}

describe('docs/compatibility.md: every method of @browserbasehq/sdk', () => {
  const methods = sdkMethods(new Browserbase({ apiKey: 'unused', baseURL: 'http://127.0.0.1:9' }));
  const rows = tableRows();

  it('finds the methods of the installed SDK (not vacuously)', () => {
    expect(methods.length).toBeGreaterThan(40);
    expect(methods).toContain('sessions.create');
    expect(methods).toContain('sessions.recording.downloads.list');
    expect(methods).toContain('fetchAPI.create');
  });

  it('lists each of them once, and no method the SDK does not have', () => {
    expect(
      [...rows.keys()].filter((m) => !methods.includes(m)),
      'rows for methods the SDK does not have',
    ).toEqual([]);
    expect(
      methods.filter((m) => !rows.has(m)),
      'SDK methods the table misses',
    ).toEqual([]);
  });

  it('gives each one of the four treatments', () => {
    expect([...rows].filter(([, treatment]) => !TREATMENTS.includes(treatment))).toEqual([]);
  });

  it('marks 501 exactly the methods whose 501 the SDK tests make', () => {
    const marked = [...rows].filter(([, t]) => t === '501 not_supported').map(([m]) => m);
    expect(marked.sort()).toEqual([...Object.keys(NOT_SUPPORTED_CALLS), ...OTHER_501].sort());
  });
});
