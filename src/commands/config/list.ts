import chalk from 'chalk'

import {ConnectedCommand} from '../../connected-command.js'

export default class ConfigList extends ConnectedCommand {
  static override summary = 'List the profiles of the local store.'

  static override description = 'One line per profile: the active one is marked with *, with its issuer and saved client. Secrets are never shown.'

  static override examples = [{description: 'List profiles:', command: '<%= config.bin %> <%= command.id %>'}]

  async run(): Promise<unknown> {
    await this.parse(ConfigList)
    const active = this.store.activeProfileName()
    const names = this.store.profileNames()
    if (!names.includes(active)) names.unshift(active)
    const profiles = names.map((name) => {
      const p = this.store.getProfile(name)
      return {name, active: name === active, issuer: p.issuer ?? null, clientId: p.client?.id ?? null, resource: p.resource?.uri ?? p.resourceUri ?? null}
    })
    for (const p of profiles) {
      this.log(`${p.active ? chalk.green('*') : ' '} ${p.name.padEnd(16)} ${chalk.dim(`issuer ${p.issuer ?? '(default)'}  client ${p.clientId ?? '(none)'}`)}`)
    }
    return {active, profiles}
  }
}
