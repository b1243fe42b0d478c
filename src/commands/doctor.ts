import {BaseCommand} from '../cli/base-command.js'
import {describeError, toCliError} from '../cli/error-map.js'
import {diagramFlags, doctorFlags, dpopFlags, dpopSchemeFlags, protocolFlags, requestFlags} from '../cli/flags.js'
import {doctorEnvelope, formatDoctorStep, renderDoctorReport} from '../cli/render/doctor.js'
import {callWorks, DoctorFoundProblem, type DoctorReport} from '../doctor/findings.js'
import {configuredClientCredentials, flagClientCredentials} from '../walkthrough/token.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Why can\'t my agent call this MCP server? Walk to a working call; name the step that breaks.'

  static override description = `Walks from an MCP URL to a working call, as an agent does: the server without a token (401 and its challenge), its protected resource metadata (RFC 9728), the authorization server it names (RFC 8414 metadata, issuer, grants), a client_credentials token for exactly that resource (RFC 8707), then the MCP connection, tools/list and one tools/call of a tool that cannot change anything (read-only by its annotations, echo, or no arguments and nothing in its name that says change; none is called when none qualifies).

It stops at the first step that breaks and reports it as the primary finding, with the evidence (what the servers said and what was compared) and the fix, plus whatever else it noticed. The finding ids are a stable contract: mcp_unreachable, no_auth_required, no_resource_metadata, prm_resource_mismatch, as_unreachable, as_issuer_mismatch, grant_not_supported, client_rejected, scope_not_allowed, resource_not_registered, token_audience_rejected, token_signature_rejected, token_expired, insufficient_scope, dpop_required, protocol_version_unsupported, ok. docs/doctor.md says how each is decided.

It uses what the servers say (challenges, error bodies, metadata); where the MCP server only says 401 it compares the token's claims with its metadata and says that it is guessing. For an expired token it compares the MCP server's Date header and the token's iat and exp with this machine's clock, and says which clock is off. It never registers a client or changes anything on a server, always mints a fresh token (never from the cache), and never prints a secret: the token appears as its claims.

Exit 0 when the primary finding is ok or no_auth_required, 1 for any other finding; the usual codes when doctor itself cannot run (2 bad flags, 7 no client configured for a server that wants a token).`

  static override examples = [
    {description: 'The profile\'s MCP server and client:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any MCP server, with a client registered at the authorization server it names:', command: 'AUTHPLANE_CLIENT_SECRET=... <%= config.bin %> <%= command.id %> --mcp-url https://mcp.example.com/mcp --client-id <id>'},
    {description: 'The findings as JSON, and the run as a diagram:', command: '<%= config.bin %> <%= command.id %> --json | jq .result.primary; <%= config.bin %> <%= command.id %> --diagram=ascii'},
  ]

  // No --dry-run: doctor changes nothing anywhere, and its first request (the probe without a
  // token) is one a dry run would hold back. No --no-cache: it always mints afresh.
  static override flags = {
    ...doctorFlags,
    ...protocolFlags,
    ...dpopFlags,
    ...dpopSchemeFlags,
    'print-curl': requestFlags['print-curl'],
    'request-timeout': requestFlags['request-timeout'],
    har: requestFlags.har,
    ...diagramFlags,
  }

  private report?: DoctorReport

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const ctx = await this.context(flags)
    const credentials = flagClientCredentials({clientId: flags['client-id'], clientSecret: flags['client-secret']}, this.env)
    const configured = configuredClientCredentials(ctx, this.env, {clientId: flags['client-id']})
    const {runDoctor} = await import('../doctor/run.js')
    const report = await runDoctor(ctx, {
      credentials,
      configuredCredentials: configured,
      expectedIssuer: flags.issuer,
      scopes: flags.scope,
      describeError,
      onStart: (step, name) => this.traceMark(`${step}. ${name}`),
      onStep: (step) => this.display(formatDoctorStep(step)),
    })
    this.report = report
    this.display(renderDoctorReport(report))
    if (!callWorks(report)) throw new DoctorFoundProblem(report)
    this.traceSuccess(`${report.primary}: the call works`)
    return report
  }

  protected override toSuccessJson(result: unknown): unknown {
    return doctorEnvelope(super.toSuccessJson(result) as Record<string, unknown>, result as DoctorReport, true)
  }

  protected override toErrorJson(err: unknown): unknown {
    const base = super.toErrorJson(err) as Record<string, unknown>
    return toCliError(err).cause instanceof DoctorFoundProblem && this.report ? doctorEnvelope(base, this.report, false) : base
  }
}
