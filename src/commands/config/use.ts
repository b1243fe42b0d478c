import {Args} from '@oclif/core'

import {ConnectedCommand} from '../../connected-command.js'

export default class ConfigUse extends ConnectedCommand {
  static override summary = 'Make a profile the active one.'

  static override description = 'Commands without --profile (or AP_DEMO_PROFILE) use the active profile. A profile that does not exist yet starts empty and is saved by the first command that writes to it.'

  static override examples = [{description: 'Switch to the "docker" profile:', command: '<%= config.bin %> <%= command.id %> docker'}]

  static override args = {
    profile: Args.string({description: 'Profile name.', required: true}),
  }

  async run(): Promise<unknown> {
    const {args} = await this.parse(ConfigUse)
    const existed = this.store.hasProfile(args.profile)
    this.store.setActiveProfile(args.profile)
    this.log(`active profile: ${args.profile}${existed ? '' : ' (new, empty)'}`)
    return {active: args.profile, existed}
  }
}
