import {BaseCommand} from '../../cli/base-command.js'
import {profileFlags} from '../../cli/flags.js'
import {configShow, renderConfigShow, type ConfigShowResult} from '../../cli/render/config.js'

export default class ConfigShow extends BaseCommand {
  static override summary = 'Show the settings in effect and where each one came from.'

  static override description = 'Resolves every connection setting with the precedence environment (then ./.env) > profile > default and prints its value and source, then what the profile holds (resource, client, cached tokens). Secrets are masked.'

  static override examples = [
    {description: 'What will the next command use?', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Another profile, as JSON:', command: '<%= config.bin %> <%= command.id %> --profile staging --json'},
  ]

  static override flags = {...profileFlags}

  async run(): Promise<ConfigShowResult> {
    const {flags} = await this.parse(ConfigShow)
    const settings = this.connection(flags)
    const result = configShow(settings, this.store.getProfile(settings.profile), this.store.path)
    this.display(renderConfigShow(result))
    return result
  }
}
