import {Command, Help} from '@oclif/core'

// Help that fits a screen: the summary, a one-line usage, one line per flag (grouped), the first
// paragraph of the description and the examples, no per-flag essays. The full text (every
// paragraph, every flag's description) is the generated reference, docs/commands.md, which the
// build renders with this class too: oclif's readme generator asks with respectNoCacheDefault.

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  if (line) lines.push(indent + line)
  return lines
}

/** The first sentences of a paragraph, up to about `max` characters. */
function firstSentences(text: string, max: number): string {
  const sentences = text.replace(/\s+/g, ' ').trim().match(/[^.!?]+(?:[.!?](?=\s|$)|$)\s*/g) ?? []
  let out = ''
  for (const sentence of sentences) {
    if (out && out.length + sentence.length > max) break
    out += sentence
  }
  out = out.trim()
  // One long sentence: cut at a word, the reference has the rest.
  return out.length <= max ? out : `${out.slice(0, out.lastIndexOf(' ', max))} …`
}

type LoadedFlag = Command.Loadable['flags'][string]

export default class ApDemoHelp extends Help {
  private get lineWidth(): number {
    // A terminal's own width up to 100 columns; 100 when the help goes to a file or a pipe.
    return process.stdout.isTTY ? Math.max(60, Math.min(process.stdout.columns || 80, 100)) : 100
  }

  private fill(text: string, command?: Command.Loadable): string {
    return text.replaceAll('<%= config.bin %>', this.config.bin).replaceAll('<%= command.id %>', command ? command.id.replaceAll(':', ' ') : '')
  }

  protected override formatCommand(command: Command.Loadable): string {
    // The generated reference keeps every detail.
    if (this.opts.respectNoCacheDefault) return super.formatCommand(command)
    const id = command.id.replaceAll(':', ' ')
    // oclif prints the summary above this.
    const out: string[] = []
    const args = Object.values(command.args ?? {}).map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`))
    const usage = typeof command.usage === 'string' ? this.fill(command.usage, command) : `${[id, ...args].join(' ')} [FLAGS]`
    out.push('USAGE', `  $ ${this.config.bin} ${usage}`)
    for (const arg of Object.values(command.args ?? {})) {
      out.push('', 'ARGUMENTS', ...wrap(`${arg.name.toUpperCase()}  ${arg.description ?? ''}`, this.lineWidth, '  '))
    }
    out.push(...this.flagLines(command))
    const about = firstSentences(this.fill(command.description ?? '', command).split(/\n\s*\n/)[0] ?? '', 180)
    if (about) out.push('', 'DESCRIPTION', ...wrap(about, this.lineWidth, '  '))
    const examples = (command.examples ?? []).map((e) => (typeof e === 'string' ? {description: '', command: e} : e))
    if (examples.length > 0) {
      out.push('', 'EXAMPLES')
      for (const e of examples) {
        if (e.description) out.push(`  # ${this.fill(e.description, command).replace(/:$/, '')}`)
        out.push(`  $ ${this.fill(e.command, command)}`)
      }
    }
    out.push('', 'Every flag in detail: docs/commands.md in the ap-demo repository.')
    return out.join('\n')
  }

  /** One line per flag, in oclif's groups: the command's own flags first, then the shared sets. */
  private flagLines(command: Command.Loadable): string[] {
    // --json is on every command: the root help says so once.
    const flags = Object.entries(command.flags ?? {}).filter(([name, f]) => !f.hidden && name !== 'json')
    const label = ([name, f]: [string, LoadedFlag]) => {
      const short = f.char ? `-${f.char}, ` : '    '
      const value = f.type === 'option' ? `=<${f.options ? f.options.join('|') : 'value'}>` : ''
      return `${short}--${(f as {allowNo?: boolean}).allowNo ? '[no-]' : ''}${name}${value}`
    }
    const pad = Math.min(32, Math.max(...flags.map((f) => label(f).length)) + 2)
    const groups = new Map<string, Array<[string, LoadedFlag]>>()
    for (const entry of flags) {
      const group = entry[1].helpGroup === 'GLOBAL' ? '' : (entry[1].helpGroup ?? '')
      groups.set(group, [...(groups.get(group) ?? []), entry])
    }
    const order = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : 0))
    const out: string[] = []
    for (const group of order) {
      out.push('', group ? `${group} FLAGS` : 'FLAGS')
      for (const entry of groups.get(group)!) {
        const f = entry[1]
        const dflt = f.type === 'option' && f.default !== undefined && typeof f.default !== 'function' ? ` [default: ${f.default}]` : ''
        const head = `  ${label(entry).padEnd(pad)}`
        const text = `${f.summary ?? f.description?.split('\n')[0] ?? ''}${dflt}`
        const wrapped = wrap(text, this.lineWidth, ' '.repeat(head.length))
        out.push(head + (wrapped[0] ?? '').trimStart(), ...wrapped.slice(1))
      }
    }
    return out
  }

  override formatRoot(): string {
    return [
      'Get started (no Docker, nothing else needed):',
      `  $ ${this.config.bin} verify --embedded       # the whole tier-02 walkthrough, checked`,
      `  $ ${this.config.bin} stack up                # or keep the servers running, then elsewhere:`,
      `  $ ${this.config.bin} setup                   # register a resource and a client, step by step`,
      `  $ ${this.config.bin} mcp call echo --text hi`,
      '',
      this.config.pjson.description ?? '',
      '',
      'USAGE',
      `  $ ${this.config.bin} COMMAND [FLAGS]`,
      '',
      'Every command: -h/--help for its flags, --json for one JSON document on stdout.',
    ].join('\n')
  }
}
