import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {BaseCommand} from '../../cli/base-command.js'
import {InputError} from '../../errors.js'

export default class StackDown extends BaseCommand {
  static override summary = 'Stop the Docker stack started by `stack up --docker` (docker compose down).'

  static override description = `With --docker, runs \`docker compose down\` on the same compose project and env file as \`ap-demo stack up --docker\`: the containers and their network are removed; the authserver's data volume (database and signing keys, so resources and clients) is kept unless --volumes is given.

The embedded stack needs no command to stop it: \`ap-demo stack up\` runs it in the foreground, so Ctrl-C in that terminal (or SIGTERM to that process) stops it. Without --docker this command therefore stops nothing and says so (exit 2).`

  static override examples = [
    {description: 'Stop the Docker stack, keep its data:', command: '<%= config.bin %> <%= command.id %> --docker'},
    {description: 'Stop it and delete the data volume (registered resources and clients, signing keys):', command: '<%= config.bin %> <%= command.id %> --docker --volumes'},
  ]

  static override flags = {
    docker: Flags.boolean({summary: 'Stop the Docker stack (docker compose down).', description: 'Needs Docker with the Compose v2 plugin and a running engine.'}),
    volumes: Flags.boolean({summary: 'Also delete the data volume (docker compose down --volumes).', description: 'The registered resources and clients and the signing keys go with it.', dependsOn: ['docker']}),
  }

  async run(): Promise<{docker: true; composeFile: string; envFile: string | null; volumesRemoved: boolean}> {
    const {flags} = await this.parse(StackDown)
    if (!flags.docker) {
      throw new InputError('nothing_to_stop', 'without --docker there is nothing to stop: the embedded stack runs in the foreground of `ap-demo stack up`', {
        hint: 'Press Ctrl-C in the terminal running `ap-demo stack up` (or send its process SIGTERM); for the Docker stack run `ap-demo stack down --docker`.',
      })
    }
    const {composeProject, downDockerStack} = await import('../../docker/stack.js')
    const project = composeProject(this.config.root)
    this.note(chalk.dim(`docker compose down${flags.volumes ? ' --volumes' : ''} (${project.file}${project.envFile ? `, env file ${project.envFile}` : ''})`))
    await downDockerStack(project, {volumes: Boolean(flags.volumes), showProgress: !this.jsonEnabled()})
    const result = {docker: true as const, composeFile: project.file, envFile: project.envFile ?? null, volumesRemoved: Boolean(flags.volumes)}
    this.display(`Docker stack stopped; ${flags.volumes ? 'its data volume was deleted too' : 'its data volume is kept (--volumes deletes it)'}.`)
    return result
  }
}
