import {BaseCommand} from '../../cli/base-command.js'
import {renderConfigList, type ConfigListResult} from '../../cli/render/config.js'

export default class ConfigList extends BaseCommand {
  static override summary = 'List the profiles of the local store.'

  static override description = 'One line per profile: the active one is marked with *, with its issuer and saved client. Secrets are never shown.'

  static override examples = [{description: 'List profiles:', command: '<%= config.bin %> <%= command.id %>'}]

  async run(): Promise<ConfigListResult> {
    await this.parse(ConfigList)
    const active = this.store.activeProfileName()
    const names = this.store.profileNames()
    if (!names.includes(active)) names.unshift(active)
    const profiles = names.map((name) => {
      const p = this.store.getProfile(name)
      return {name, active: name === active, issuer: p.issuer ?? null, clientId: p.client?.id ?? null, resource: p.resource?.uri ?? p.resourceUri ?? null}
    })
    const result = {active, profiles}
    this.display(renderConfigList(result))
    return result
  }
}
