import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {ConnectedCommand, traceFlags} from '../connected-command.js'
import {ApDemoError, ExitCode} from '../errors.js'
import {cleanWalkthrough, describeCleanPlan} from '../walkthrough/clean.js'

export default class Clean extends ConnectedCommand {
  static override summary = 'Remove what the walkthrough created, on the server and in the profile.'

  static override description = `Deletes the saved client on the server (with force, so live tokens do not block it), the saved resource when ap-demo created it (a resource that already existed is left alone), and forgets both, and the cached tokens, in the profile. Endpoints and the admin key stay in the profile.

Asks for confirmation on a terminal; elsewhere pass --yes.`

  static override examples = [
    {description: 'Clean up after the walkthrough:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'In a script:', command: '<%= config.bin %> <%= command.id %> --yes'},
  ]

  static override flags = {
    ...traceFlags,
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.', description: 'Required when there is no terminal to ask on (scripts, CI).'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Clean)
    const ctx = await this.context(flags, {needAdminKey: true})
    const plan = describeCleanPlan(ctx)
    if (plan.length === 0) {
      this.log(`nothing to clean in profile "${ctx.profile}"`)
      return {profile: ctx.profile, removed: []}
    }
    if (!flags.yes) {
      if (!this.canPrompt(flags)) {
        throw new ApDemoError('confirmation_needed', 'clean deletes things on the server and needs confirmation', {exitCode: ExitCode.USAGE, hint: 'Pass --yes to confirm without a prompt.'})
      }
      const {confirm} = await import('@inquirer/prompts')
      const ok = await confirm({message: `Delete ${plan.join(' and ')}?`, default: false}, {output: process.stderr})
      if (!ok) {
        this.log('nothing deleted')
        return {profile: ctx.profile, removed: []}
      }
    }
    const removed = await cleanWalkthrough(ctx)
    for (const item of removed) this.log(`${chalk.green('✔')} ${item.what} ${item.id} ${item.result}`)
    return {profile: ctx.profile, removed}
  }
}
