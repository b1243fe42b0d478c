import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {connectionFlags, inputFlags, requestFlags} from '../../cli/flags.js'
import {renderClient, type SetupClientResult} from '../../cli/render/setup.js'
import {ensureClient} from '../../walkthrough/client.js'
import {VERIFY_DEFAULTS} from '../../walkthrough/defaults.js'

export default class SetupClient extends BaseCommand {
  static override summary = 'Register the agent\'s client_credentials client and keep its secret.'

  static override description = `Creates a confidential client (grant_types ["client_credentials"]) through the admin API. Its secret is shown by the server only once: ap-demo writes it to the local store (mode 0600) before printing anything, and prints it only with --show-secret.

A second run reuses the saved client while it still exists on the server and matches; --new always creates another one (clients are never deduplicated by the server), --rotate gives the saved client a new secret.`

  static override examples = [
    {description: 'Register the walkthrough\'s client (demo-agent-ts, scope mcp:echo):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Lost the secret? Rotate it:', command: '<%= config.bin %> <%= command.id %> --rotate'},
    {description: 'A client that sends its secret in the form body:', command: '<%= config.bin %> <%= command.id %> --new --auth-method client_secret_post'},
  ]

  static override flags = {
    ...connectionFlags,
    ...requestFlags,
    ...inputFlags,
    name: Flags.string({summary: 'Client name.', description: 'Free text, up to 255 characters; shown in the admin API.', default: VERIFY_DEFAULTS.clientName}),
    scope: Flags.string({summary: 'Scope ceiling (space-separated).', description: 'Default mcp:echo for a new client; a saved client with another scope is replaced only when this flag is given.'}),
    'auth-method': Flags.string({summary: 'How the client authenticates at the token endpoint.', description: 'client_secret_basic sends the id and secret in an HTTP Basic header (the SDK\'s way); client_secret_post sends them in the form body. Never "none": a public client has no secret and cannot use client_credentials.', options: ['client_secret_basic', 'client_secret_post'], default: 'client_secret_basic'}),
    new: Flags.boolean({summary: 'Always create a new client.', description: 'The server never deduplicates clients: every create is a new client with a new secret.', exclusive: ['rotate']}),
    rotate: Flags.boolean({summary: 'Rotate the saved client\'s secret.', description: 'POST /admin/clients/{id}/rotate-secret; the new secret replaces the old one in the store at once, the old one stops working.', exclusive: ['new']}),
    'show-secret': Flags.boolean({summary: 'Print the client secret.', description: 'Only on a terminal or when asked: the secret is already in the store.'}),
  }

  async run(): Promise<SetupClientResult> {
    const {flags} = await this.parse(SetupClient)
    const ctx = await this.context(flags, {needAdminKey: true})
    const authMethod = flags['auth-method'] as 'client_secret_basic' | 'client_secret_post'
    const {action, reason, client: c} = await this.waitingFor(`registering the client at ${ctx.adminUrl}`, () => ensureClient(ctx, {name: flags.name, scope: flags.scope, authMethod}, {forceNew: flags.new, rotate: flags.rotate}))
    if (reason) this.warnUser(`a new client was created: ${reason}`)
    const result: SetupClientResult = {
      action,
      reason: reason ?? null,
      profile: ctx.profile,
      client: {id: c.id, name: c.name, scope: c.scope, authMethod: c.authMethod, createdAt: c.createdAt},
      secret: flags['show-secret'] ? c.secret : {stored: true, store: this.store.path, profile: ctx.profile},
    }
    this.display(renderClient(result))
    return result
  }
}
