import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {adminFlags, inputFlags, profileFlags, requestFlags} from '../../cli/flags.js'
import {renderUser, type SetupUserResult} from '../../cli/render/user.js'
import {inputError} from '../../errors.js'
import {checkEmail, ensureUser, listUsers, removeUser, setUserEnabled, userPassword, USER_PASSWORD_ENV} from '../../walkthrough/user.js'

export default class SetupUser extends BaseCommand {
  static override summary = 'Create, disable, enable, delete or list the users of the login page.'

  static override description = `Interactive MCP clients (the MCP Inspector, Claude, Cursor) send a person to the authorization server's login page; these are the accounts they sign in with, managed through the admin API (/admin/users).

Creating keeps an existing user with that email as it is (its password is never changed). The password of a new user comes from ${USER_PASSWORD_ENV}, or is generated and printed once: the server keeps only its bcrypt hash, and ap-demo keeps nothing.`

  static override examples = [
    {description: 'A user with a password of your choice:', command: `${USER_PASSWORD_ENV}='choose-a-password' <%= config.bin %> <%= command.id %> --email you@example.com`},
    {description: 'A user with a generated password (printed once):', command: '<%= config.bin %> <%= command.id %> --email you@example.com --name "You"'},
    {description: 'Lock a user out, and let them back in:', command: '<%= config.bin %> <%= command.id %> --email you@example.com --disable'},
    {description: 'All users:', command: '<%= config.bin %> <%= command.id %> --list'},
  ]

  static override flags = {
    ...profileFlags,
    ...adminFlags,
    ...requestFlags,
    ...inputFlags,
    email: Flags.string({summary: 'The user\'s email (their login name).', description: 'Unique on the server, compared case-insensitively.', exclusive: ['list']}),
    name: Flags.string({summary: 'Display name of a new user.', description: 'Free text; only used when the user is created.'}),
    role: Flags.string({summary: 'Role of a new user.', description: 'user or admin, as the server\'s admin API has them; only used when the user is created.', options: ['user', 'admin'], default: 'user'}),
    disable: Flags.boolean({summary: 'Disable the user.', description: 'PATCH /admin/users/{id}/disable: the login page refuses them, and their codes and refresh tokens stop working.', exclusive: ['enable', 'delete']}),
    enable: Flags.boolean({summary: 'Enable a disabled user again.', description: 'PATCH /admin/users/{id}/enable.', exclusive: ['disable', 'delete']}),
    delete: Flags.boolean({summary: 'Delete the user.', description: 'DELETE /admin/users/{id}; refused (exit 6) while the user holds tokens, unless --force.', exclusive: ['disable', 'enable']}),
    force: Flags.boolean({summary: 'With --delete: revoke the user\'s tokens and delete anyway.', description: 'DELETE /admin/users/{id}?force=true.', dependsOn: ['delete']}),
    list: Flags.boolean({summary: 'List the users.', description: 'GET /admin/users: email, status, role and id of each.', exclusive: ['email']}),
  }

  async run(): Promise<SetupUserResult> {
    const {flags} = await this.parse(SetupUser)
    const ctx = await this.context(flags, {needAdminKey: true})
    const base = {profile: ctx.profile, password: null, passwordSource: null} as const
    let result: SetupUserResult
    if (flags.list) {
      result = {...base, action: 'listed', users: await listUsers(ctx)}
    } else {
      if (flags.email === undefined) throw inputError('--email is required (or --list)', 'Example: ap-demo setup user --email you@example.com')
      const email = checkEmail(flags.email, '--email')
      if (flags.disable || flags.enable) {
        const {user, changed} = await setUserEnabled(ctx, email, flags.enable)
        result = {...base, action: changed ? (flags.enable ? 'enabled' : 'disabled') : 'unchanged', users: [user]}
      } else if (flags.delete) {
        result = {...base, action: 'deleted', users: [await removeUser(ctx, email, flags.force)]}
      } else {
        const password = userPassword((name) => this.env.get(name))
        // Generated or not, it is shown as $AP_DEMO_USER_PASSWORD by --print-curl and --dry-run and redacted from --har.
        this.knownSecret(password.password, USER_PASSWORD_ENV)
        const ensured = await ensureUser(ctx, {email, name: flags.name, role: flags.role as 'user' | 'admin'}, password)
        result = {
          ...base,
          action: ensured.action,
          users: [ensured.user],
          password: ensured.password ?? null,
          passwordSource: ensured.action === 'created' ? (password.generated ? 'generated' : `env ${USER_PASSWORD_ENV}`) : null,
        }
      }
    }
    this.display(renderUser(result))
    return result
  }
}
