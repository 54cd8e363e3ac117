import type { MetadataCondition } from '../ports/store.js';
import { InvalidQueryError } from './errors.js';

const SYNTAX = "user_metadata['key']['nested']:'value'";

/**
 * Parses Browserbase's session metadata query (`q`): one or more clauses `user_metadata['a']['b']:'value'`,
 * joined by `AND`. Keys and values are single- or double-quoted; a backslash escapes the next character.
 * @throws InvalidQueryError naming the position and the expected syntax.
 */
export function parseMetadataQuery(query: string): MetadataCondition[] {
  const conditions: MetadataCondition[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new InvalidQueryError(`Invalid q at position ${i}: ${what}. Expected ${SYNTAX}, clauses joined by AND.`);
  };
  const skipSpace = () => {
    while (i < query.length && /\s/.test(query[i] as string)) i++;
  };
  const quoted = (): string => {
    const quote = query[i];
    if (quote !== "'" && quote !== '"') return fail('expected a quoted string');
    i++;
    let text = '';
    while (i < query.length && query[i] !== quote) {
      if (query[i] === '\\' && i + 1 < query.length) i++;
      text += query[i];
      i++;
    }
    if (i >= query.length) fail('unterminated string');
    i++;
    return text;
  };

  skipSpace();
  if (i >= query.length) fail('empty query');
  while (i < query.length) {
    if (!query.startsWith('user_metadata', i)) fail('expected user_metadata');
    i += 'user_metadata'.length;
    const path: string[] = [];
    skipSpace();
    while (query[i] === '[') {
      i++;
      skipSpace();
      path.push(quoted());
      skipSpace();
      if (query[i] !== ']') fail("expected ']'");
      i++;
      skipSpace();
    }
    if (path.length === 0) fail("expected ['key']");
    if (query[i] !== ':') fail("expected ':'");
    i++;
    skipSpace();
    conditions.push({ path, value: quoted() });
    skipSpace();
    if (i < query.length) {
      if (!/^AND\s/i.test(query.slice(i, i + 4))) fail('expected AND between clauses');
      i += 3;
      skipSpace();
    }
  }
  return conditions;
}

/** Whether `metadata` satisfies every condition (string equality; a missing or non-string value never matches). */
export function matchesMetadata(
  metadata: Record<string, unknown> | undefined,
  conditions: readonly MetadataCondition[],
): boolean {
  return conditions.every(({ path, value }) => {
    let current: unknown = metadata;
    for (const key of path) {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return false;
      current = (current as Record<string, unknown>)[key];
    }
    return current === value;
  });
}
