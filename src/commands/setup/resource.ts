import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {connectionFlags, inputFlags, requestFlags} from '../../cli/flags.js'
import {renderResource, type SetupResourceResult} from '../../cli/render/setup.js'
import {ensureResource, parseScopeArgument} from '../../walkthrough/resource.js'
import {VERIFY_DEFAULTS} from '../../walkthrough/defaults.js'

export default class SetupResource extends BaseCommand {
  static override summary = 'Register the Mint resource (the MCP server) with Authplane.'

  static override description = `Creates the resource through the admin API (POST /admin/resources) and saves it in the profile. The resource uri becomes the audience of the tokens, byte for byte.

If the slug is already taken (HTTP 409, e.g. on a re-run), the existing resource is looked up by slug and reused when its uri and scopes match; otherwise the difference is explained and the command exits with code 6.`

  static override examples = [
    {description: 'Register the walkthrough\'s resource (demo-mcp -> the MCP URL, scope mcp:echo):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Another resource with two scopes, in the real server\'s CLI syntax:', command: '<%= config.bin %> <%= command.id %> --slug tools --uri https://tools.example.com/mcp --scope "tools:read||read tools" --scope tools:write'},
  ]

  static override flags = {
    ...connectionFlags,
    ...requestFlags,
    ...inputFlags,
    slug: Flags.string({summary: 'Resource slug.', description: 'Lower-cased, then 1-64 characters of a-z, 0-9 and "-".', default: VERIFY_DEFAULTS.slug}),
    uri: Flags.string({summary: 'Resource URI (the token audience).', description: 'An absolute http(s) URL. Default: the resource setting (--resource, AUTHPLANE_RESOURCE, the profile, else the MCP URL).'}),
    'display-name': Flags.string({summary: 'Display name.', description: 'Free text shown by the admin API.', default: VERIFY_DEFAULTS.displayName}),
    scope: Flags.string({
      summary: 'Scope of the resource (repeatable).',
      description: 'name, name||description, or name|upstream|description (Mint resources leave upstream empty). Default "mcp:echo||echo tool".',
      multiple: true,
    }),
  }

  async run(): Promise<SetupResourceResult> {
    const {flags} = await this.parse(SetupResource)
    const ctx = await this.context(flags, {needAdminKey: true})
    const scopes = (flags.scope ?? ['mcp:echo||echo tool']).map(parseScopeArgument)
    const {action, resource} = await this.waitingFor(`registering the resource at ${ctx.adminUrl}`, () => ensureResource(ctx, {slug: flags.slug, uri: flags.uri ?? ctx.resource, displayName: flags['display-name'], scopes}))
    const result = {action, profile: ctx.profile, resource}
    this.display(renderResource(result))
    return result
  }
}
