import {BaseCommand} from '../cli/base-command.js'
import {adminFlags, inputFlags, profileFlags, requestFlags, yesFlags} from '../cli/flags.js'
import {inquirerPrompter} from '../cli/prompts.js'
import {renderClean, type CleanResult} from '../cli/render/setup.js'
import {NeedsInputError} from '../errors.js'
import {cleanWalkthrough, describeCleanPlan} from '../walkthrough/clean.js'

export default class Clean extends BaseCommand {
  static override summary = 'Remove what the walkthrough created, on the server and in the profile.'

  static override description = `Deletes the saved client on the server (with force, so live tokens do not block it), the saved resource when ap-demo created it (a resource that already existed is left alone), and forgets both, and the cached tokens, in the profile. Endpoints and the admin key stay in the profile.

Asks for confirmation on a terminal; elsewhere pass --yes.`

  static override examples = [
    {description: 'Clean up after the walkthrough:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'In a script:', command: '<%= config.bin %> <%= command.id %> --yes'},
  ]

  static override flags = {...profileFlags, ...adminFlags, ...requestFlags, ...inputFlags, ...yesFlags}

  async run(): Promise<CleanResult> {
    const {flags} = await this.parse(Clean)
    const ctx = await this.context(flags, {needAdminKey: true})
    const plan = describeCleanPlan(ctx)
    let removed: CleanResult['removed'] = []
    if (plan.length > 0 && (flags.yes || (await this.confirmDelete(flags, plan)))) removed = await this.waitingFor(`deleting at ${ctx.adminUrl}`, () => cleanWalkthrough(ctx))
    else if (plan.length > 0) this.note('nothing deleted')
    const result = {profile: ctx.profile, removed}
    if (plan.length === 0 || removed.length > 0) this.display(renderClean(result))
    return result
  }

  private async confirmDelete(flags: {'no-input'?: boolean}, plan: string[]): Promise<boolean> {
    if (!this.canPrompt(flags)) {
      throw new NeedsInputError('confirmation_needed', 'clean deletes things on the server and needs confirmation', {hint: 'Pass --yes to confirm without a prompt.'})
    }
    const {confirm} = await inquirerPrompter()
    return confirm({message: `Delete ${plan.join(' and ')}?`, default: false})
  }
}
