import {BaseCommand} from '../../cli/base-command.js'

export default class ConfigPath extends BaseCommand {
  static override summary = 'Print the path of the local store file.'

  static override description = 'The store is a JSON file with mode 0600 in a 0700 directory under the XDG config directory ($XDG_CONFIG_HOME/ap-demo, by default ~/.config/ap-demo).'

  static override examples = [{description: 'Where is it?', command: '<%= config.bin %> <%= command.id %>'}]

  async run(): Promise<{path: string}> {
    await this.parse(ConfigPath)
    this.display(this.store.path)
    return {path: this.store.path}
  }
}
