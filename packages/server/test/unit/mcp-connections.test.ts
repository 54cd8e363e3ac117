import { describe, expect, it } from 'vitest';
import { Census } from '../../src/census.js';
import { McpConnections } from '../../src/mcp/connections.js';
import { refsOf } from '../../src/mcp/page-driver.js';

/** A lifecycle that only announces endings, when told to. */
function endings() {
  const listeners: ((sessionId: string) => void)[] = [];
  return {
    lifecycle: { onEnded: (listener: (sessionId: string) => void) => void listeners.push(listener) },
    end: (sessionId: string) => {
      for (const listener of listeners) listener(sessionId);
    },
  };
}

describe('McpConnections', () => {
  it("remembers each connection's last session and snapshot, and forgets them when the session ends", () => {
    const { lifecycle, end } = endings();
    const census = new Census();
    const connections = new McpConnections({ lifecycle, census });
    connections.rememberCreated('key:a', 's1');
    connections.rememberCreated('key:a', 's2');
    connections.rememberCreated('key:b', 's1');
    connections.rememberSnapshot('key:a', 's1', new Map([['e1', '- button "Save"']]));
    expect(connections.lastSession('key:a')).toBe('s2');
    expect(connections.lastSession('key:b')).toBe('s1');
    expect(connections.lastSession(undefined)).toBeUndefined();
    expect(connections.refLine('key:a', 's1', 'e1')).toBe('- button "Save"');
    expect(census.read().mcpConnections).toBe(2);

    end('s1');
    expect(connections.refLine('key:a', 's1', 'e1')).toBeUndefined();
    expect(connections.lastSession('key:a')).toBe('s2');
    expect(connections.lastSession('key:b')).toBeUndefined();
    expect(census.read().mcpConnections).toBe(1);
    end('s2');
    expect(census.read().mcpConnections).toBe(0);
  });

  it('forgets a connection on DELETE, and ignores calls without one', () => {
    const connections = new McpConnections({ lifecycle: endings().lifecycle });
    connections.rememberCreated(undefined, 's1');
    connections.rememberCreated('key:a', 's1');
    connections.forget('key:a');
    expect(connections.lastSession('key:a')).toBeUndefined();
  });
});

describe('refsOf', () => {
  it("maps each ref to its element's role and name, without states or values", () => {
    const snapshot = [
      '- heading "Order form" [level=1] [ref=e2]',
      '- button "Show details" [active] [ref=e3] [cursor=pointer]',
      '- textbox "Name" [ref=e5]: Ada',
      '- generic [ref=f1e4]:',
      '- text: no ref here',
    ].join('\n');
    expect([...refsOf(snapshot)]).toEqual([
      ['e2', '- heading "Order form"'],
      ['e3', '- button "Show details"'],
      ['e5', '- textbox "Name"'],
      ['f1e4', '- generic'],
    ]);
  });
});
