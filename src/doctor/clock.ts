// Which clock is off, and by how much: three clocks meet in a token's life. The authorization
// server writes its own time into the token (iat, and exp = iat + lifetime); the MCP server
// compares exp with its own time (and says what that time is in its Date header, RFC 9110 §6.6.1);
// this machine sees both answers arrive. Two of three agreeing points at the third.

/** Below this, two clocks agree: Date has one-second resolution, and the answers take time. */
export const CLOCK_TOLERANCE_SECONDS = 5

export interface ClockReadings {
  /** The token's iat and exp (the authorization server's clock). */
  iat?: number
  exp?: number
  nbf?: number
  /** This machine's clock when the token arrived (ms). */
  mintedAt: number
  /** The MCP server's Date header on its refusal, and this machine's clock when it arrived (ms). */
  serverDate?: string
  refusedAt: number
}

export interface ClockVerdict {
  /** Who is off: one of the servers, this machine, or nobody that doctor can see. */
  culprit: 'authorization_server' | 'mcp_server' | 'this_machine' | 'both_servers' | 'none' | 'unknown'
  /** Seconds the authorization server's clock is ahead of this one (negative: behind), from iat. */
  authServerSkew?: number
  /** Seconds the MCP server's clock is ahead of this one (negative: behind), from its Date header. */
  mcpServerSkew?: number
  /** Seconds past exp at the MCP server's time (negative: still valid then). */
  expiredBy?: number
  /** One line per fact, for the evidence. */
  evidence: string[]
  /** One sentence: which clock to fix and by how much. */
  summary: string
}

/** `2 h 5 min`, `3 min 20 s`, `42 s`. */
export function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds))
  if (s < 120) return `${s} s`
  if (s < 600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`
  // Clocks are read to the second (Date), with the answers' time in between: minutes are enough.
  const minutes = Math.round(s / 60)
  if (minutes < 60) return `${minutes} min`
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`
}

const aheadOrBehind = (skew: number) => `${skew > 0 ? 'ahead of' : 'behind'} this machine's by about ${duration(skew)}`
const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/** Compares the three clocks from what the token and the MCP server's answer say. */
export function judgeClocks(r: ClockReadings): ClockVerdict {
  const evidence: string[] = []
  const off = (skew: number | undefined) => skew !== undefined && Math.abs(skew) > CLOCK_TOLERANCE_SECONDS
  let authServerSkew: number | undefined
  if (typeof r.iat === 'number') {
    authServerSkew = Math.round(r.iat - r.mintedAt / 1000)
    evidence.push(`token iat ${iso(r.iat)} (the authorization server's clock), received at ${new Date(r.mintedAt).toISOString()} here: ${off(authServerSkew) ? aheadOrBehind(authServerSkew) : 'agrees'}`)
  } else {
    evidence.push('the token has no iat, so the authorization server\'s clock cannot be read from it')
  }
  let mcpServerSkew: number | undefined
  let serverNow: number | undefined
  const parsed = r.serverDate === undefined ? Number.NaN : Date.parse(r.serverDate)
  if (!Number.isNaN(parsed)) {
    serverNow = Math.floor(parsed / 1000)
    mcpServerSkew = Math.round(parsed / 1000 - r.refusedAt / 1000)
    evidence.push(`MCP server Date: ${r.serverDate}, received at ${new Date(r.refusedAt).toISOString()} here: ${off(mcpServerSkew) ? aheadOrBehind(mcpServerSkew) : 'agrees'}`)
  } else {
    evidence.push(r.serverDate === undefined ? 'the MCP server sent no Date header, so its clock cannot be read' : `the MCP server's Date header "${r.serverDate}" is not a date`)
  }
  const exp = typeof r.exp === 'number' ? r.exp : undefined
  const at = serverNow ?? Math.floor(r.refusedAt / 1000)
  const expiredBy = exp === undefined ? undefined : at - exp
  if (exp !== undefined) {
    const lifetime = typeof r.iat === 'number' ? `, a lifetime of ${duration(exp - r.iat)}` : ''
    evidence.push(`token exp ${iso(exp)}${lifetime}: ${expiredBy! > 0 ? `past by ${duration(expiredBy!)}` : `${duration(-expiredBy!)} to go`} at the ${serverNow === undefined ? 'this machine\'s' : 'MCP server\'s'} time`)
  }
  if (typeof r.nbf === 'number' && r.nbf > at + CLOCK_TOLERANCE_SECONDS) evidence.push(`token nbf ${iso(r.nbf)} is ${duration(r.nbf - at)} in the future at that time`)

  const base = {authServerSkew, mcpServerSkew, expiredBy, evidence}
  const as = off(authServerSkew)
  const mcp = off(mcpServerSkew)
  if (as && mcp && Math.abs(authServerSkew! - mcpServerSkew!) <= CLOCK_TOLERANCE_SECONDS) {
    return {...base, culprit: 'this_machine', summary: `this machine's clock is off: both servers agree with each other and are ${aheadOrBehind(authServerSkew!)}`}
  }
  if (as && mcp) {
    return {...base, culprit: 'both_servers', summary: `the authorization server's clock is ${aheadOrBehind(authServerSkew!)} and the MCP server's is ${aheadOrBehind(mcpServerSkew!)}: they are ${duration(authServerSkew! - mcpServerSkew!)} apart`}
  }
  if (as) return {...base, culprit: 'authorization_server', summary: `the authorization server's clock is ${aheadOrBehind(authServerSkew!)}, and the MCP server agrees with this machine`}
  if (mcp) return {...base, culprit: 'mcp_server', summary: `the MCP server's clock is ${aheadOrBehind(mcpServerSkew!)}, and the authorization server agrees with this machine`}
  if (authServerSkew === undefined || mcpServerSkew === undefined) {
    return {...base, culprit: 'unknown', summary: 'the clocks that can be read agree with this machine\'s; the other cannot be read'}
  }
  return {...base, culprit: 'none', summary: `all three clocks agree within ${CLOCK_TOLERANCE_SECONDS} s`}
}
