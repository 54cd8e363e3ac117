import type { Census } from '../census.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';

/** What one MCP connection remembers between its requests. */
interface ConnectionState {
  /** The session this connection created last (`session_create`), the browser tools' default. */
  lastSessionId?: string;
  /** Per session, the latest snapshot's refs: each ref's element as the snapshot showed it (role and name). */
  refs: Map<string, Map<string, string>>;
}

/** Connections remembered at most: past it, the least recently used is forgotten. */
const MAX_CONNECTIONS = 10_000;

/**
 * The state of MCP connections, by connection id (the `Mcp-Session-Id` the endpoint hands out on `initialize`),
 * kept in this process's memory. The MCP transport itself is stateless (a fresh one per request), so any process
 * can answer any request; only the defaults here live in the process that saw the connection's earlier requests
 * (see docs/mcp.md, "Connections"). Entries go when their sessions end, so that nothing grows with sessions.
 */
export class McpConnections {
  readonly #states = new Map<string, ConnectionState>();

  constructor({ lifecycle, census }: { lifecycle: Pick<SessionLifecycle, 'onEnded'>; census?: Census | undefined }) {
    census?.add('mcpConnections', () => this.#states.size);
    lifecycle.onEnded((sessionId) => this.#sessionEnded(sessionId));
  }

  /** The session `connection` created last, while it has not ended. */
  lastSession(connection: string | undefined): string | undefined {
    return connection ? this.#states.get(connection)?.lastSessionId : undefined;
  }

  rememberCreated(connection: string | undefined, sessionId: string): void {
    if (connection) this.#state(connection).lastSessionId = sessionId;
  }

  /** The element a ref named in `connection`'s latest snapshot of the session, if this process saw it. */
  refLine(connection: string | undefined, sessionId: string, ref: string): string | undefined {
    return connection ? this.#states.get(connection)?.refs.get(sessionId)?.get(ref) : undefined;
  }

  rememberSnapshot(connection: string | undefined, sessionId: string, refs: Map<string, string>): void {
    if (connection) this.#state(connection).refs.set(sessionId, refs);
  }

  /** The client ended its connection (HTTP DELETE). Its sessions live on until released or timed out. */
  forget(connection: string): void {
    this.#states.delete(connection);
  }

  #state(connection: string): ConnectionState {
    let state = this.#states.get(connection);
    if (state) {
      this.#states.delete(connection);
    } else {
      state = { refs: new Map() };
      if (this.#states.size >= MAX_CONNECTIONS) {
        const oldest = this.#states.keys().next().value;
        if (oldest !== undefined) this.#states.delete(oldest);
      }
    }
    this.#states.set(connection, state);
    return state;
  }

  #sessionEnded(sessionId: string): void {
    for (const [connection, state] of this.#states) {
      state.refs.delete(sessionId);
      if (state.lastSessionId === sessionId) delete state.lastSessionId;
      if (state.lastSessionId === undefined && state.refs.size === 0) this.#states.delete(connection);
    }
  }
}
