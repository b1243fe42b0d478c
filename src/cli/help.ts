import {Command, Help} from '@oclif/core'

import {wrapText} from './render/wrap.js'

// Help that fits a screen: the summary, a one-line usage, one line per flag (grouped), the first
// paragraph of the description and the examples, no per-flag essays. The full text (every
// paragraph, every flag's description) is the generated reference, docs/commands.md, which the
// build renders with this class too: oclif's readme generator asks with respectNoCacheDefault.

/**
 * The first sentences of a paragraph, up to about `max` characters. A sentence ends at `.`, `!` or
 * `?` followed by a space or the end: a dot inside a word (`./.env`, `~/.config`, `1.5`) or in
 * "e.g." and "i.e." ends nothing, so the paragraph is always shown from its start.
 */
export function firstSentences(text: string, max: number): string {
  const sentences = text.replace(/\s+/g, ' ').trim().split(/(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.) /)
  let out = ''
  for (const sentence of sentences) {
    if (out && out.length + 1 + sentence.length > max) break
    out = out ? `${out} ${sentence}` : sentence
  }
  // One long sentence: cut at a word, the reference has the rest.
  return out.length <= max ? out : `${out.slice(0, out.lastIndexOf(' ', max))} …`
}

type LoadedFlag = Command.Loadable['flags'][string]

/**
 * Groups of knobs that mirror the real authserver's settings: on screen they are one wrapped list
 * of names (their text is in docs/commands.md), so that `stack up -h` still fits a screen.
 */
const NAMES_ONLY_GROUPS = new Set(['AUTHSERVER SETTINGS', 'SIGN-IN', 'DPOP'])
/** Examples shown on screen at the most; the reference lists them all. */
const SCREEN_EXAMPLES = 4
/**
 * Lines a command's help may take below oclif's summary line (and above a topic's command list):
 * with those, `ap-demo <command> -h` fits a 40-line screen.
 */
const SCREEN_LINES = 37
const FOOTER_LINES = 2

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
      out.push('', 'ARGUMENTS', ...wrapText(`${arg.name.toUpperCase()}  ${arg.description ?? ''}`, this.lineWidth, '  '))
    }
    // A command with more flag groups than a screen holds shows the shared request flags, then
    // the tier-03 and the client flags, as names only too (each line of theirs is in docs/commands.md).
    const minimum = (lines: string[]) => out.length + lines.length + (command.examples?.length ? 3 : 0) + FOOTER_LINES
    const namesOnly = new Set(NAMES_ONLY_GROUPS)
    let flagLines = this.flagLines(command, namesOnly)
    for (const group of ['REQUEST', 'TIER 03', 'CLIENT']) {
      if (minimum(flagLines) <= SCREEN_LINES) break
      flagLines = this.flagLines(command, namesOnly.add(group))
    }
    out.push(...flagLines)
    // What is left of the screen goes to the description's first sentences and the examples; when
    // the flags take most of it, the examples shrink to the first ones, then the description goes
    // (the reference keeps both whole).
    const about = firstSentences(this.fill(command.description ?? '', command).split(/\n\s*\n/)[0] ?? '', 180)
    const description = about ? ['', 'DESCRIPTION', ...wrapText(about, this.lineWidth, '  ')] : []
    const examples = (command.examples ?? []).map((e) => (typeof e === 'string' ? {description: '', command: e} : e))
    const exampleLines = (n: number): string[] =>
      n === 0 ? [] : ['', 'EXAMPLES', ...examples.slice(0, n).flatMap((e) => [...(e.description ? [`  # ${this.fill(e.description, command).replace(/:$/, '')}`] : []), `  $ ${this.fill(e.command, command)}`])]
    let shown = Math.min(examples.length, SCREEN_EXAMPLES)
    let withDescription = true
    const total = () => out.length + (withDescription ? description.length : 0) + exampleLines(shown).length + FOOTER_LINES
    while (total() > SCREEN_LINES && shown > 2) shown--
    if (total() > SCREEN_LINES) withDescription = false
    while (total() > SCREEN_LINES && shown > 1) shown--
    if (withDescription) out.push(...description)
    out.push(...exampleLines(shown))
    out.push('', 'Every flag and example in detail: docs/commands.md in the ap-demo repository.')
    return out.join('\n')
  }

  /** One line per flag, in oclif's groups: the command's own flags first, then the shared sets. */
  private flagLines(command: Command.Loadable, namesOnly: ReadonlySet<string>): string[] {
    // --json is on every command: the root help says so once.
    const flags = Object.entries(command.flags ?? {}).filter(([name, f]) => !f.hidden && name !== 'json')
    const label = ([name, f]: [string, LoadedFlag]) => {
      const short = f.char ? `-${f.char}, ` : '    '
      const helpValue = (f as {helpValue?: string | string[]}).helpValue
      const value = f.type === 'option' ? (typeof helpValue === 'string' ? `=${helpValue}` : `=<${f.options ? f.options.join('|') : 'value'}>`) : ''
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
      if (namesOnly.has(group)) {
        out.push(...wrapText(groups.get(group)!.map((entry) => label(entry).trim()).join('  '), this.lineWidth, '      '))
        continue
      }
      for (const entry of groups.get(group)!) {
        const f = entry[1]
        const dflt = f.type === 'option' && f.default !== undefined && typeof f.default !== 'function' ? ` [default: ${f.default}]` : ''
        // A label longer than the column still keeps two spaces before its text.
        const head = `  ${label(entry).padEnd(pad)}`.replace(/(\S)$/, '$1  ')
        const text = `${f.summary ?? f.description?.split('\n')[0] ?? ''}${dflt}`
        const wrapped = wrapText(text, this.lineWidth, ' '.repeat(head.length))
        out.push(head + (wrapped[0] ?? '').trimStart(), ...wrapped.slice(1))
      }
    }
    return out
  }

  /** A topic's commands, one line each (the summary cut at a word to fit the width). */
  protected override formatCommands(commands: Command.Loadable[]): string {
    const visible = commands.filter((c) => !c.hidden)
    if (visible.length === 0) return ''
    const ids = visible.map((c) => c.id.replaceAll(':', ' '))
    const pad = Math.max(...ids.map((id) => id.length)) + 2
    return ['COMMANDS', ...visible.map((c, i) => {
        const summary = this.fill(c.summary ?? c.description?.split('\n')[0] ?? '', c).trim()
        return `  ${ids[i]!.padEnd(pad)}${firstSentences(summary, this.lineWidth - pad - 2)}`
      })].join('\n')
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
