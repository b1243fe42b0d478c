// Live MCP sessions of the 2025 era (the 2026-07-28 era has none): one McpServer + transport each,
// bound to the token subject that created them, expired when idle and bounded in number so that
// abandoned clients cannot exhaust memory.
import type {NodeStreamableHTTPServerTransport} from '@modelcontextprotocol/node'
import type {McpServer} from '@modelcontextprotocol/server'

export interface Session {
  id: string
  /** Token `sub` of the client that initialized the session. */
  sub: string
  server: McpServer
  transport: NodeStreamableHTTPServerTransport
  lastUsed: number
  /** Requests still being answered (an open SSE stream counts), which keep the session alive. */
  inFlight: number
}

export class SessionStore {
  // A Map iterates in insertion order; re-inserting on every use keeps the least recently used
  // session first, which is the one evicted when the bound is reached.
  readonly #sessions = new Map<string, Session>()
  readonly #idleMs: number
  readonly #max: number
  readonly #sweeper: NodeJS.Timeout

  constructor(idleMs: number, max: number) {
    this.#idleMs = idleMs
    this.#max = Math.max(1, max)
    const period = Math.min(Math.max(Math.floor(idleMs / 2), 10), 60_000)
    this.#sweeper = setInterval(() => this.#sweep(), period)
    // The sweep must never keep the process alive on its own.
    this.#sweeper.unref()
  }

  get size(): number {
    return this.#sessions.size
  }

  /**
   * Registers a freshly initialized session. When the store is full, the least recently used idle
   * session is closed to make room; only when every session is busy (a request or an SSE stream
   * open) does the least recently used busy one go, so the bound holds whatever clients do.
   */
  admit(session: Session): void {
    while (this.#sessions.size >= this.#max) {
      const victim = this.#oldestIdle() ?? this.#sessions.values().next().value
      if (!victim) break
      void this.close(victim)
    }
    this.#sessions.set(session.id, session)
  }

  #oldestIdle(): Session | undefined {
    for (const session of this.#sessions.values()) if (session.inFlight === 0) return session
    return undefined
  }

  /**
   * The session for `id` if it exists and belongs to `sub`. A session of another subject is
   * reported as absent (404, like an unknown id) rather than 403: a session id is a capability,
   * and telling a different client that it exists would confirm a guessed or leaked id and help
   * hijack someone else's conversation.
   */
  lookup(id: string, sub: string): Session | undefined {
    const session = this.#sessions.get(id)
    if (!session || session.sub !== sub) return undefined
    return session
  }

  /** Marks the start of a request on the session; the returned function marks its end. */
  use(session: Session): () => void {
    this.#sessions.delete(session.id)
    this.#sessions.set(session.id, session)
    session.inFlight++
    session.lastUsed = Date.now()
    let done = false
    return () => {
      if (done) return
      done = true
      session.inFlight--
      session.lastUsed = Date.now()
    }
  }

  /** Forgets the session; called from the transport's onclose as well, hence idempotent. */
  forget(id: string): void {
    this.#sessions.delete(id)
  }

  close(session: Session): Promise<void> {
    this.#sessions.delete(session.id)
    // McpServer.close() closes its transport, which ends any open SSE stream of the session.
    return session.server.close().catch(() => {})
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper)
    await Promise.all([...this.#sessions.values()].map((s) => this.close(s)))
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs
    for (const session of [...this.#sessions.values()]) {
      if (session.inFlight === 0 && session.lastUsed <= cutoff) void this.close(session)
    }
  }
}
