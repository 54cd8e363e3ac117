import { describe, expect, it } from 'vitest';
import { InvalidQueryError } from '../../src/domain/errors.js';
import { matchesMetadata, parseMetadataQuery } from '../../src/domain/metadata-query.js';

describe('parseMetadataQuery', () => {
  it.each([
    ["user_metadata['a']:'b'", [{ path: ['a'], value: 'b' }]],
    ["user_metadata['order']['id']:'123'", [{ path: ['order', 'id'], value: '123' }]],
    ['user_metadata["a"]:"b"', [{ path: ['a'], value: 'b' }]],
    ["  user_metadata [ 'a' ] : 'b'  ", [{ path: ['a'], value: 'b' }]],
    [
      "user_metadata['a']:'x AND y' and user_metadata['b']:'c'",
      [
        { path: ['a'], value: 'x AND y' },
        { path: ['b'], value: 'c' },
      ],
    ],
    ["user_metadata['it\\'s']:'a:b'", [{ path: ["it's"], value: 'a:b' }]],
    ["user_metadata['a']:''", [{ path: ['a'], value: '' }]],
  ])('parses %s', (query, expected) => {
    expect(parseMetadataQuery(query)).toEqual(expected);
  });

  it.each([
    '',
    'a:b',
    "metadata['a']:'b'",
    "user_metadata:'b'",
    "user_metadata['a']",
    "user_metadata['a']:b",
    "user_metadata['a':'b'",
    "user_metadata['a']:'b",
    "user_metadata['a']:'b' user_metadata['c']:'d'",
    "user_metadata['a']:'b' AND",
  ])('rejects %j with a message naming the syntax', (query) => {
    expect(() => parseMetadataQuery(query)).toThrow(InvalidQueryError);
    expect(() => parseMetadataQuery(query)).toThrow(/Expected user_metadata\['key'\]/);
  });
});

describe('matchesMetadata', () => {
  const metadata = { a: { b: 'c' }, n: 1, s: '1', list: ['x'] };
  it.each([
    [[{ path: ['a', 'b'], value: 'c' }], true],
    [[{ path: ['s'], value: '1' }], true],
    [[{ path: ['n'], value: '1' }], false],
    [[{ path: ['a'], value: 'c' }], false],
    [[{ path: ['a', 'b', 'c'], value: 'c' }], false],
    [[{ path: ['list', '0'], value: 'x' }], false],
    [[{ path: ['missing'], value: '' }], false],
    [[], true],
  ])('%j → %s', (conditions, expected) => {
    expect(matchesMetadata(metadata, conditions)).toBe(expected);
  });
  it('never matches a session without metadata', () => {
    expect(matchesMetadata(undefined, [{ path: ['a'], value: 'b' }])).toBe(false);
  });
});
