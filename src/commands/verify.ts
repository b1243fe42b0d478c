import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {BaseCommand} from '../cli/base-command.js'
import {describeError} from '../cli/error-map.js'
import {browserFlags, connectionFlags, diagramFlags, dpopFlags, dpopSchemeFlags, inputFlags, protocolFlags, requestFlags} from '../cli/flags.js'
import {browserOptions} from '../cli/login.js'
import {formatStepLines} from '../cli/render/verify.js'
import {ENV} from '../config/settings.js'
import {ConfigStore} from '../config/store.js'
import {createContext, type WalkthroughContext} from '../walkthrough/context.js'
import {DEFAULT_ECHO_TEXT, runVerify, verifySteps, verifyTargets, type VerifyReport} from '../walkthrough/verify.js'
import type {WaitState} from '../walkthrough/wait.js'
import type {StackHandle, StackOptions} from '../stack/types.js'

export default class Verify extends BaseCommand {
  static override summary = 'Run the whole tier-02 walkthrough and check every step.'

  static override description = `The Authplane tier-02 example, step by step: discovery, MCP server readiness (401 without a token), the resource (a 409 on a re-run is fine), the client, a token whose aud is the resource, the MCP connection, the echo tool; then the audience-binding proofs: requests without a token, with a token minted without resource, and with a tampered token must each get 401.

It checks the profile's own resource and client when it has them (as the wizard left them), else registers the walkthrough's demo-mcp and demo-agent-ts.

Prints one line per step and ALL CHECKS PASSED (exit 0), or the failing step with the server's answer and a hint. The exit code is the failure's own: 1 when the server answered wrongly (a refusal step not refused), 3 for refused credentials, 4 for a server down, 5 for a rejected request (README "Exit codes").

The MCP connection negotiates the protocol revision and its line names the one it landed on: 2026-07-28 (server/discover, stateless) when the server speaks it, else 2025-11-25 (initialize and a session); the refusal checks are then sent in that revision. --protocol (or AP_DEMO_MCP_PROTOCOL) pins one; --json has it as "protocol".

With --embedded it first starts an embedded Authplane-compatible stack on free ports, with a throwaway store and data, so nothing else is needed.

With --user EMAIL it runs the tier-01 browser flow instead, as steps: discovery, the resource, the client (dynamic registration), the authorization request, the sign-in, the consent, the code exchange (the token's sub is the user), the echo tool with the user's token, a refresh; then the refusals: the same code twice, a code with another PKCE verifier, and an unregistered redirect URI must each be refused. With AP_DEMO_USER_PASSWORD set (a test convenience; --embedded makes one up) ap-demo fills the sign-in and consent forms itself; otherwise it opens the browser and the user signs in. See docs/login.md.

With --dpop (tier 03, RFC 9449) the token is bound to the profile's key (or --dpop-key FILE) and every MCP request carries a proof; then five more steps show that the binding holds: the bound token sent as a plain Bearer token, with a proof from another key, with a replayed proof, and with proofs made for another URL and another method must each get 401. Against \`ap-demo stack up --mcp-dpop required\` (or allowed); with --embedded the embedded MCP server requires DPoP.`

  static override examples = [
    {description: 'Against the embedded stack, nothing else needed:', command: '<%= config.bin %> <%= command.id %> --embedded'},
    {description: 'Against servers already running (ap-demo stack up, or Docker):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Tier 03: a DPoP-bound token, and the proofs that the binding holds:', command: '<%= config.bin %> <%= command.id %> --dpop'},
    {description: 'The browser flow of a user, with its refusals:', command: '<%= config.bin %> <%= command.id %> --embedded --user you@example.com'},
    {description: 'A machine-readable report:', command: '<%= config.bin %> <%= command.id %> --embedded --json | jq .result.steps'},
  ]

  static override flags = {
    ...connectionFlags,
    ...protocolFlags,
    ...requestFlags,
    ...diagramFlags,
    ...inputFlags,
    ...dpopFlags,
    ...dpopSchemeFlags,
    embedded: Flags.boolean({summary: 'Start an embedded stack on free ports and verify against it.', description: 'Uses a throwaway store and in-memory data; the connection flags and the profile are ignored.'}),
    text: Flags.string({summary: 'Text to send to the echo tool.', description: `Env ${ENV.echoText}. Default "${DEFAULT_ECHO_TEXT}".`}),
    timeout: Flags.integer({
      summary: 'Seconds to wait for servers that are still starting (1-3600).',
      description:
        'Bounds the discovery and MCP readiness waits of steps 1 and 2; default 60, as the original verify script. Without --timeout, a server that refuses the connection at the first try (nothing listens: it is not running) fails at once instead; with it, verify waits for a start that is slow.',
      min: 1,
      max: 3600,
    }),
    user: Flags.string({
      summary: 'Verify the browser flow of this user (email) instead.',
      description: 'The tier-01 flow of interactive MCP clients, step by step, with its refusals. AP_DEMO_USER_PASSWORD (a test convenience) lets ap-demo fill the sign-in and consent forms; without it the browser opens and the user signs in. With --embedded the user is created in the embedded stack.',
      exclusive: ['dpop', 'dpop-key'],
    }),
    ...browserFlags('SIGN-IN'),
  }

  async run(): Promise<VerifyReport> {
    const {flags} = await this.parse(Verify)
    const echoText = flags.text ?? this.env.get(ENV.echoText) ?? DEFAULT_ECHO_TEXT
    if (flags.user !== undefined) return this.verifyUser(flags, flags.user, echoText)
    let ctx: WalkthroughContext
    let cleanup = async () => {}
    if (flags.embedded) {
      const dpop = Boolean(flags.dpop || flags['dpop-key'])
      const {stack, temporary, stop} = await this.embeddedStack(dpop ? {mcpDpop: 'required'} : {})
      cleanup = stop
      const profile = 'verify'
      ctx = await this.withDpop(
        this.withMcpProtocol(createContext(stack, {
          store: temporary.store,
          profile,
          adminKey: stack.adminKey,
          requestTimeoutMs: flags['request-timeout'] * 1000,
          observer: this.requestObserver(flags, stack.adminKey, profile, temporary.store),
        }), flags),
        flags,
      )
    } else {
      ctx = await this.context(flags, {needAdminKey: true})
    }
    return this.runSteps(verifySteps(ctx).length, cleanup, (steps) =>
      runVerify(ctx, {
        ...verifyTargets(ctx),
        waitMs: (flags.timeout ?? 60) * 1000,
        // Servers verify did not start, and no --timeout: nothing listening means not running.
        failFastWhenRefused: !flags.embedded && flags.timeout === undefined,
        echoText,
        describeError,
        onStart: steps.onStart,
        onStep: steps.onStep,
        onWait: steps.onWait,
        serversStartedByApDemo: flags.embedded ? true : undefined,
      }),
    )
  }

  /** An embedded stack on free ports with a throwaway store; `stop` ends both. */
  private async embeddedStack(options: Pick<StackOptions, 'mcpDpop'>): Promise<{stack: StackHandle; temporary: ReturnType<typeof ConfigStore.temporary>; stop: () => Promise<void>}> {
    const {startStack} = await import('../stack/index.js')
    const stack = await this.waitingFor('starting the embedded stack', () => startStack({port: 0, adminPort: 0, mcpPort: 0, ...options}))
    const temporary = ConfigStore.temporary()
    this.note(chalk.dim(`embedded stack: issuer ${stack.issuer}, admin ${stack.adminUrl}, MCP ${stack.mcpUrl}`))
    return {
      stack,
      temporary,
      stop: async () => {
        await stack.stop()
        temporary.dispose()
      },
    }
  }

  /** The steps, shown as they finish, then ALL CHECKS PASSED; the display and `cleanup` end either way. */
  private async runSteps(total: number, cleanup: () => Promise<void>, run: (steps: ReturnType<Verify['stepDisplay']>) => Promise<VerifyReport>): Promise<VerifyReport> {
    const steps = this.stepDisplay(total)
    try {
      const report = await run(steps)
      this.traceSuccess('ALL CHECKS PASSED')
      this.display(chalk.green.bold('ALL CHECKS PASSED'))
      return report
    } finally {
      steps.stop()
      await cleanup()
    }
  }

  /** `verify --user EMAIL`: the browser flow of one user, with the form driver when a password is known. */
  private async verifyUser(flags: Parameters<typeof browserOptions>[0] & {embedded?: boolean; timeout?: number; protocol?: string; 'request-timeout': number; 'no-input'?: boolean} & Record<string, unknown>, given: string, echoText: string): Promise<VerifyReport> {
    const [{checkEmail, ensureUser, userPassword, USER_PASSWORD_ENV}, {runVerifyUser, userVerifySteps}] = await Promise.all([import('../walkthrough/user.js'), import('../walkthrough/verify-user.js')])
    const email = checkEmail(given, '--user')
    let ctx: WalkthroughContext
    let cleanup = async () => {}
    let password = this.env.get(USER_PASSWORD_ENV) || undefined
    if (flags.embedded) {
      const {stack, temporary, stop} = await this.embeddedStack({})
      cleanup = stop
      ctx = this.withMcpProtocol(createContext(stack, {store: temporary.store, profile: 'verify', adminKey: stack.adminKey, requestTimeoutMs: flags['request-timeout'] * 1000, observer: this.requestObserver(flags, stack.adminKey, 'verify', temporary.store)}), flags)
      // The user of the embedded stack: its password is ap-demo's own (never shown), or AP_DEMO_USER_PASSWORD.
      const made = userPassword((name) => this.env.get(name))
      password = made.password
      try {
        await ensureUser(ctx, {email}, made)
      } catch (error) {
        await cleanup()
        throw error
      }
    } else {
      ctx = await this.context(flags, {needAdminKey: true})
    }
    const target = ctx
    return this.runSteps(userVerifySteps(password !== undefined).length, cleanup, (steps) =>
      runVerifyUser(target, {...verifyTargets(target), email, env: this.env, echoText, browser: browserOptions(flags, this.progress), describeError, onStart: steps.onStart, onStep: steps.onStep, ...(password === undefined ? {} : {password})}),
    )
  }

  /**
   * One line per finished step. A step still running after a second says what it waits for
   * (the servers may take up to --timeout to come up).
   */
  private stepDisplay(total: number) {
    let waiting: {stop: (ok?: boolean) => void; update: (status: string) => void} | undefined
    return {
      onWait: (state: WaitState) => {
        const retrying = state.why === undefined ? 'connecting' : `${state.why}; retrying for up to ${Math.round(state.waitMs / 1000)} s`
        waiting?.update(`${state.url}: ${retrying}`)
      },
      onStart: (step: number, name: string) => {
        this.traceMark(`${step}. ${name}`)
        waiting?.stop()
        waiting = this.startWaiting(`[${String(step).padStart(2)}/${total}] waiting: ${name}`)
      },
      onStep: (s: Parameters<typeof formatStepLines>[0]) => {
        waiting?.stop(s.ok)
        this.display(formatStepLines(s, total))
      },
      stop: () => waiting?.stop(),
    }
  }
}
