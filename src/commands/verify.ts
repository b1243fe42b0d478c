import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {ConnectedCommand, traceFlags} from '../connected-command.js'
import {ENV} from '../config/settings.js'
import {ConfigStore} from '../config/store.js'
import {ApDemoError} from '../errors.js'
import {DryRunStop} from '../http/request.js'
import {formatStepLine} from '../ui/steps.js'
import type {WalkthroughContext} from '../walkthrough/context.js'
import {DEFAULT_ECHO_TEXT, runVerify, VERIFY_DEFAULTS, VERIFY_STEPS, VerifyFailed, type StepReport} from '../walkthrough/verify.js'

export default class Verify extends ConnectedCommand {
  static override summary = 'Run the whole tier-02 walkthrough and check every step.'

  static override description = `The Authplane tier-02 example, step by step: discovery, MCP server readiness (401 without a token), the resource (a 409 on a re-run is fine), the client, a token whose aud is the resource, MCP initialize, the echo tool; then the audience-binding proofs: requests without a token, with a token minted without resource, and with a tampered token must each get 401.

Prints one line per step and ALL CHECKS PASSED (exit 0), or the failing step with the server's answer and a hint (non-zero exit, see the exit codes in the README).

With --embedded it first starts an embedded Authplane-compatible stack on free ports, with a throwaway store and data, so nothing else is needed.`

  static override examples = [
    {description: 'Against the embedded stack, nothing else needed:', command: '<%= config.bin %> <%= command.id %> --embedded'},
    {description: 'Against servers already running (ap-demo stack up, or Docker):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A machine-readable report:', command: '<%= config.bin %> <%= command.id %> --embedded --json | jq .result.steps'},
  ]

  static override flags = {
    ...traceFlags,
    embedded: Flags.boolean({summary: 'Start an embedded stack on free ports and verify against it.', description: 'Uses a throwaway store and in-memory data; the connection flags and the profile are ignored.'}),
    text: Flags.string({summary: 'Text to send to the echo tool.', description: `Env ${ENV.echoText}. Default "${DEFAULT_ECHO_TEXT}".`}),
    timeout: Flags.integer({summary: 'Seconds to wait for the servers to come up.', description: 'Bounds the discovery and MCP readiness waits of steps 1 and 2, as the original verify script\'s 60 s.', default: 60, min: 1}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Verify)
    const echoText = flags.text ?? this.env.get(ENV.echoText) ?? DEFAULT_ECHO_TEXT
    await this.startTrace(flags)
    let ctx: WalkthroughContext
    let cleanup = async () => {}
    if (flags.embedded) {
      const {startStack} = await import('../stack/index.js')
      const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
      const temporary = ConfigStore.temporary()
      cleanup = async () => {
        await stack.stop()
        temporary.dispose()
      }
      this.note(chalk.dim(`embedded stack: issuer ${stack.issuer}, admin ${stack.adminUrl}, MCP ${stack.mcpUrl}`))
      ctx = this.connect({
        issuer: stack.issuer,
        adminUrl: stack.adminUrl,
        adminKey: stack.adminKey,
        mcpUrl: stack.mcpUrl,
        resource: stack.resource,
        store: temporary.store,
        profile: 'verify',
        requestTimeoutMs: flags['request-timeout'] * 1000,
      }, flags)
    } else {
      ctx = await this.context(flags, {needAdminKey: true})
    }

    const total = VERIFY_STEPS.length
    const onStep = (s: StepReport) => {
      if (!this.jsonEnabled()) process.stdout.write(`${formatStepLine(s, total)}\n`)
    }
    try {
      const report = await runVerify(ctx, {
        waitMs: flags.timeout * 1000,
        echoText,
        slug: VERIFY_DEFAULTS.slug,
        displayName: VERIFY_DEFAULTS.displayName,
        clientName: VERIFY_DEFAULTS.clientName,
        scope: VERIFY_DEFAULTS.scope,
        onStep,
        onStart: (step, name) => this.traceMark(`${step}. ${name}`),
      })
      this.traceOutcome = {ok: true, message: 'ALL CHECKS PASSED'}
      this.log(chalk.green.bold('ALL CHECKS PASSED'))
      return report
    } catch (error) {
      if (error instanceof VerifyFailed && error.failure.cause instanceof DryRunStop) throw error.failure.cause
      if (error instanceof VerifyFailed) {
        const f = error.failure
        this.traceOutcome = {ok: false, message: `step "${error.report.failedStep}" failed: ${f.message}`}
        throw new ApDemoError(f.code, `step "${error.report.failedStep}" failed: ${f.message}`, {
          exitCode: f.exitCode,
          hint: f.hint,
          details: {...f.details, report: error.report},
          cause: f,
        })
      }
      throw error
    } finally {
      await cleanup()
    }
  }
}
