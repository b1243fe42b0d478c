// The verify report and its failure, in a module of their own: the CLI's error map needs them
// without loading the walkthrough's steps.

export interface StepReport {
  step: number
  name: string
  ok: boolean
  ms: number
  detail?: string
  /** Not needed on this run (shown as SKIP). */
  skipped?: boolean
  /** As in the JSON envelope's error; `exitCode` is filled in by the CLI's error map. */
  error?: {code: string; message: string; hint: string | null; exitCode?: number; [key: string]: unknown}
}

export interface VerifyReport {
  passed: boolean
  issuer: string
  adminUrl: string
  mcpUrl: string
  resource: string
  /** The resource slug verify registered or found (the profile's own, else demo-mcp). */
  slug?: string
  steps: StepReport[]
  /**
   * The MCP protocol of step 6: what was asked (--protocol: `auto` negotiates), the era it landed
   * on (`modern`: 2026-07-28, server/discover, stateless; `legacy`: 2025, initialize and a session)
   * and the revision. The later refusal checks are sent in that era.
   */
  protocol?: {choice: string; era: 'legacy' | 'modern'; version: string | null}
  echoed?: string
  failedStep?: string
  /**
   * When a step that talks to the MCP server or the authorization server failed against servers
   * ap-demo did not start: the `ap-demo doctor` command line that walks that deployment.
   */
  doctor?: string
}

/** A verify step failed: the report so far, and the step's error as it was thrown. */
export class VerifyFailed extends Error {
  constructor(
    readonly report: VerifyReport,
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure))
    this.name = 'VerifyFailed'
  }
}
