// The findings of `ap-demo doctor`: a stable, documented contract (docs/doctor.md). Kept free of
// anything heavy: the CLI's error map imports this module for every command.

/** Every id doctor may report, in the order of the walk (docs/doctor.md says how each is decided). */
export const FINDING_IDS = [
  'mcp_unreachable',
  'no_auth_required',
  'no_resource_metadata',
  'prm_resource_mismatch',
  'as_unreachable',
  'as_issuer_mismatch',
  'grant_not_supported',
  'client_rejected',
  'scope_not_allowed',
  'resource_not_registered',
  'token_audience_rejected',
  'token_signature_rejected',
  'token_expired',
  'insufficient_scope',
  'dpop_required',
  'protocol_version_unsupported',
  'ok',
] as const

export type FindingId = (typeof FINDING_IDS)[number]

/**
 * `error`: the step that breaks the call; `warning`: it works here, but some clients (or a later
 * change) will trip on it; `info`: worth knowing; `ok`: the call works.
 */
export type Severity = 'error' | 'warning' | 'info' | 'ok'

export interface Finding {
  id: FindingId
  severity: Severity
  /** One sentence: what is wrong (or right). */
  summary: string
  /** What the servers said or sent, and what was compared, one fact per line. */
  evidence: string[]
  /** What to change, and where; null when nothing needs changing. */
  fix: string | null
  /** True when the servers were silent and doctor inferred the cause (it says so in the summary). */
  guessed?: boolean
}

/** One line per step of the walk, as the human output shows it. */
export interface DoctorStep {
  /** 1-based position in the walk (DOCTOR_STEPS). */
  step: number
  name: string
  ok: boolean
  ms: number
  detail: string
  /** Not needed on this walk (a server that asks for no token skips the token steps). */
  skipped?: boolean
}

export interface DoctorReport {
  /** The id of the finding that decides the outcome: the first step that broke, or ok / no_auth_required. */
  primary: FindingId
  /** The primary finding first, then whatever else doctor noticed on the way. */
  findings: Finding[]
  steps: DoctorStep[]
  mcpUrl: string
  /** The access token as its claims (as `token mint --decode` shows them), when one was minted. */
  token?: {header: Record<string, unknown>; claims: Record<string, unknown>}
}

/** The steps of the walk, in order (docs/doctor.md "The walk"). */
export const DOCTOR_STEPS = [
  'MCP server, no token',
  'resource metadata',
  'authorization server',
  'token minted',
  'MCP connect',
  'tools/list',
  'tools/call',
] as const

/** The primary findings that mean "your agent can call this server". */
export function callWorks(report: Pick<DoctorReport, 'primary'>): boolean {
  return report.primary === 'ok' || report.primary === 'no_auth_required'
}

/** Doctor walked to a step that breaks: the report says which and why (the CLI decides the exit code). */
export class DoctorFoundProblem extends Error {
  constructor(readonly report: DoctorReport) {
    const primary = report.findings[0]
    super(primary ? `${primary.id}: ${primary.summary}` : report.primary)
    this.name = 'DoctorFoundProblem'
  }
}
