import {Flags} from '@oclif/core'
import chalk from 'chalk'
import {join} from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {describeError} from '../../cli/error-map.js'
import {connectionFlags, dpopFlags, inputFlags, requestFlags} from '../../cli/flags.js'
import {inquirerPrompter} from '../../cli/prompts.js'
import type {SetupResult} from '../../cli/render/setup.js'
import {formatStepLines} from '../../cli/render/verify.js'
import {terminalLine} from '../../terminal-text.js'
import {DEFAULTS, ENV} from '../../config/settings.js'
import {createContext} from '../../walkthrough/context.js'
import {DEFAULT_ECHO_TEXT, verifySteps} from '../../walkthrough/verify.js'
import {applyPlan} from '../../wizard/apply.js'
import {collectPlan, missingForNonInteractive, noTerminalError} from '../../wizard/questions.js'
import {replayCommands} from '../../wizard/replay.js'

export default class Setup extends BaseCommand {
  static override summary = 'Interactive wizard: find the servers, register the resource and the client, verify.'

  static override description = `Walks through the tier-02 setup with questions and sensible defaults: finds the authorization server and the MCP server (and offers to start the embedded stack in the background when nothing answers), asks for the admin key (masked) when none is configured, then the resource (slug, URI, scopes) and the client (name, scope), validating each answer as it is typed. It then runs the same steps as \`ap-demo setup resource\` and \`ap-demo setup client\`, optionally \`ap-demo verify\`, and prints the equivalent non-interactive commands.

Tier 03: when the MCP server announces DPoP in its resource metadata (\`ap-demo stack up --mcp-dpop allowed\` or \`required\`; the background stack the wizard starts allows it), the wizard offers to verify with a DPoP-bound token (\`verify --dpop\`); --dpop answers yes up front.

The MCP calls of its verify negotiate the protocol revision (2026-07-28 when the server speaks it, else 2025-11-25); AP_DEMO_MCP_PROTOCOL pins one, as --protocol does for \`ap-demo verify\`.

All questions come first: pressing Ctrl-C at any prompt leaves the store exactly as it was.

Without a terminal (or with --no-input, or CI set) it never prompts: with --yes it runs with the flags given and defaults for the rest, otherwise it fails at once naming the missing flags.`

  static override examples = [
    {description: 'Answer the questions (Enter takes the default):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The same without questions, e.g. in CI:', command: 'AUTHPLANE_ADMIN_API_KEY=... <%= config.bin %> <%= command.id %> --yes --verify'},
  ]

  static override flags = {
    ...connectionFlags,
    ...requestFlags,
    ...inputFlags,
    slug: Flags.string({summary: 'Resource slug.', description: 'Skips the question. Default demo-mcp.'}),
    uri: Flags.string({summary: 'Resource URI (the token audience).', description: 'Skips the question. Default: the resource setting (the MCP URL).'}),
    scope: Flags.string({summary: 'Resource scope (repeatable).', description: 'name, name||description or name|upstream|description. Skips the question. Default "mcp:echo||echo tool".', multiple: true}),
    'display-name': Flags.string({summary: 'Resource display name.', description: 'Default "Demo MCP".'}),
    name: Flags.string({summary: 'Client name.', description: 'Skips the question. Default demo-agent-ts.'}),
    'client-scope': Flags.string({summary: 'Client scope ceiling (space-separated).', description: 'Skips the question. Default: the resource\'s first scope.'}),
    verify: Flags.boolean({summary: 'Run the verify walkthrough at the end.', description: 'Skips the question; --no-verify skips verify.', allowNo: true}),
    ...dpopFlags,
    yes: Flags.boolean({char: 'y', summary: 'Take the defaults; ask nothing.', description: 'Runs without prompts, using the flags given and the defaults for everything else.'}),
  }

  async run(): Promise<SetupResult> {
    const {flags} = await this.parse(Setup)
    const interactive = this.canPrompt(flags) && !flags.yes
    const settings = this.connection(flags)
    if (!interactive) {
      // Without prompts every answer must come from a flag, or --yes takes the defaults.
      const missing = missingForNonInteractive(flags, Boolean(settings.adminKey.value)).filter((m) => !flags.yes || m.startsWith('AUTHPLANE'))
      if (missing.length > 0) throw noTerminalError(missing)
    }
    const prompts = interactive ? await inquirerPrompter() : undefined
    const timeoutMs = flags['request-timeout'] * 1000

    // Phase 1: questions only. Nothing is written before every answer is in.
    const plan = await collectPlan(flags, settings, prompts, {note: (m) => this.note(m), shown: terminalLine, binPath: join(this.config.root, 'bin', 'run.js'), dataDir: this.config.dataDir, timeoutMs}).catch((error: unknown) => {
      const started = (error as {startedStack?: {pid: number}}).startedStack
      if (started) this.stopBackground(started.pid)
      throw error
    })
    if ('quit' in plan) {
      this.note('setup stopped; nothing was changed')
      return {profile: settings.profile, quit: true}
    }

    // Phase 2: the same steps as `setup resource` and `setup client`, then verify if asked.
    const plain = this.withMcpProtocol(createContext(
      {issuer: plan.issuer, adminUrl: plan.adminUrl, mcpUrl: plan.mcpUrl, resource: plan.resourceUri},
      {store: this.store, profile: settings.profile, adminKey: plan.adminKey, requestTimeoutMs: timeoutMs, observer: this.requestObserver(flags, plan.adminKey, settings.profile)},
    ), {})
    const ctx = plan.useDpop && plan.runVerify ? await this.withDpop(plain, {dpop: true, 'dpop-key': flags['dpop-key']}) : plain
    const stepLines = (s: Parameters<typeof formatStepLines>[0]) => {
      for (const line of formatStepLines(s, verifySteps(ctx).length)) this.note(line)
    }
    const {resource, client, report} = await applyPlan(plan, ctx, {note: (m) => this.note(m), shown: terminalLine, echoText: this.env.get(ENV.echoText) ?? DEFAULT_ECHO_TEXT, verify: {onStep: stepLines, describeError}})

    const replay = replayCommands(plan, {issuer: DEFAULTS.issuer, adminUrl: DEFAULTS.adminUrl, mcpUrl: DEFAULTS.mcpUrl, profile: flags.profile})
    if (plan.startedStack) this.note(`\nThe embedded stack keeps running in the background (pid ${plan.startedStack.pid}, log ${plan.startedStack.logFile}); stop it with: kill ${plan.startedStack.pid}`)
    this.note(chalk.bold('\nThe same, without questions:'))
    this.display(replay)
    return {
      profile: ctx.profile,
      resource: resource.resource,
      client: {id: client.client.id, name: client.client.name, scope: client.client.scope, action: client.action},
      secret: {stored: true, store: this.store.path, profile: ctx.profile},
      verify: report ?? null,
      backgroundStack: plan.startedStack ?? null,
      replay,
    }
  }

  private stopBackground(pid: number): void {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {}
  }
}
