import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'

export default class ConfigUse extends BaseCommand {
  static override summary = 'Make a profile the active one.'

  static override description = 'Commands without --profile (or AP_DEMO_PROFILE) use the active profile. A profile that does not exist yet starts empty and is saved by the first command that writes to it.'

  static override examples = [{description: 'Switch to the "docker" profile:', command: '<%= config.bin %> <%= command.id %> docker'}]

  static override args = {
    profile: Args.string({description: 'Profile name.', required: true}),
  }

  async run(): Promise<{active: string; existed: boolean; existingProfiles: string[]; warning: string | null}> {
    const {args} = await this.parse(ConfigUse)
    const existingProfiles = this.store.profileNames()
    const existed = existingProfiles.includes(args.profile)
    this.store.setActiveProfile(args.profile)
    // Kept as before (a new profile starts empty), but said: a typo would otherwise go unnoticed.
    const warning = existed
      ? null
      : `no profile "${args.profile}" yet: it starts empty. Existing profiles: ${existingProfiles.length === 0 ? 'none' : existingProfiles.join(', ')}`
    if (warning) this.warnUser(warning)
    this.display(`active profile: ${args.profile}${existed ? '' : ' (new, empty)'}`)
    return {active: args.profile, existed, existingProfiles, warning}
  }
}
