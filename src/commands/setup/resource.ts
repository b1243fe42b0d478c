import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {connectionFlags, inputFlags, requestFlags} from '../../cli/flags.js'
import {renderResource, type SetupResourceResult} from '../../cli/render/setup.js'
import {ensureResource, parseScopeArgument} from '../../walkthrough/resource.js'
import {VERIFY_DEFAULTS} from '../../walkthrough/defaults.js'

export default class SetupResource extends BaseCommand {
  static override summary = 'Register the MCP server as a resource (its token audience) with Authplane.'

  static override description = `Creates the resource through the admin API (POST /admin/resources) and saves it in the profile. The resource uri becomes the audience of the tokens, byte for byte.

A resource for another MCP server than the profile's own (--uri elsewhere) is registered and remembered, but the profile keeps working with its current resource and MCP server, and says so: a second server never moves the walkthrough by itself. --use makes the new resource current and points the profile's MCP URL at it (--mcp-url, else --uri); without it, reach the other server with --mcp-url (the audience then defaults to that URL).

If the slug is already taken (HTTP 409, e.g. on a re-run), the existing resource is looked up by slug and reused when its uri and scopes match; otherwise the difference is explained and the command exits with code 6.`

  static override examples = [
    {description: 'Register the walkthrough\'s resource (demo-mcp -> the MCP URL, scope mcp:echo):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Another resource with two scopes, in the real server\'s CLI syntax:', command: '<%= config.bin %> <%= command.id %> --slug tools --uri https://tools.example.com/mcp --scope "tools:read||read tools" --scope tools:write'},
    {description: 'The same, and make it the profile\'s current resource and MCP server:', command: '<%= config.bin %> <%= command.id %> --slug tools --uri https://tools.example.com/mcp --use'},
  ]

  static override flags = {
    ...connectionFlags,
    ...requestFlags,
    ...inputFlags,
    slug: Flags.string({summary: 'Resource slug.', description: 'Lower-cased, then 1-64 characters of a-z, 0-9 and "-".', default: VERIFY_DEFAULTS.slug}),
    uri: Flags.string({summary: 'Resource URI (the token audience).', description: 'An absolute http(s) URL. Default: the resource setting (--resource, AUTHPLANE_RESOURCE, the profile, else the MCP URL).'}),
    'display-name': Flags.string({summary: 'Display name.', description: 'Free text shown by the admin API.', default: VERIFY_DEFAULTS.displayName}),
    use: Flags.boolean({
      summary: 'Make it the profile\'s current resource and MCP server.',
      description: 'The profile\'s resource becomes this one and its MCP URL --mcp-url (else --uri): mcp call, mcp tools, token mint and verify then work against it. Without --use, a resource whose uri is not the audience the profile works with is only remembered.',
    }),
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
    const uri = flags.uri ?? ctx.resource
    const use = flags.use ? {mcpUrl: flags['mcp-url'] ?? uri} : undefined
    const {action, resource, current, walkthrough} = await this.waitingFor(`registering the resource at ${ctx.adminUrl}`, () => ensureResource(ctx, {slug: flags.slug, uri, displayName: flags['display-name'], scopes, use}))
    const result: SetupResourceResult = {action, profile: ctx.profile, resource, current, walkthrough: {resource: walkthrough.resource?.slug ?? null, audience: walkthrough.resource?.uri ?? null, mcpUrl: walkthrough.mcpUrl ?? ctx.mcpUrl}}
    this.display(renderResource(result))
    return result
  }
}
