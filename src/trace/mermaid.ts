import type {SequenceItem, SequenceModel} from './sequence.js'

// Mermaid's sequenceDiagram syntax (https://mermaid.js.org/syntax/sequenceDiagram.html). Message
// and note text runs to the end of the line; `;` also ends a statement and `#` starts an entity
// code, so both are written as entity codes, as are the brackets Mermaid would read as HTML.

/** Text safe after the `:` of a message or a note. */
export function mermaidText(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/#/g, '#35;')
    .replace(/;/g, '#59;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/%%/g, '%#37;')
    .trim()
}

export function requestLabel(item: Extract<SequenceItem, {kind: 'request'}>): string {
  const outcome = item.failure ?? (item.status === undefined ? '' : String(item.status))
  return `${item.method} ${item.path}${item.rpc ? ` ${item.rpc}` : ''} · ${outcome}${item.count > 1 ? ` (×${item.count})` : ''}`
}

/** The model as a Mermaid sequenceDiagram: one arrow per request, notes for what matters. */
export function toMermaid(model: SequenceModel): string {
  const lines = ['sequenceDiagram']
  for (const p of model.participants) lines.push(`    participant ${p.id} as ${mermaidText(p.label)}`)
  const first = model.participants[0]!.id
  const last = model.participants.at(-1)!.id
  const across = first === last ? first : `${first},${last}`
  for (const item of model.items) {
    switch (item.kind) {
      case 'step': {
        lines.push(`    Note over ${across}: ${mermaidText(item.label)}`)
        break
      }
      case 'request': {
        // -x: a cross for a request that got no answer (where the flow broke).
        const arrow = item.failure ? '-x' : '->>'
        lines.push(`    ${first}${arrow}${item.to}: ${mermaidText(requestLabel(item))}`)
        break
      }
      case 'note': {
        lines.push(`    Note over ${item.over}: ${mermaidText(item.text)}`)
        break
      }
      case 'end': {
        lines.push(`    Note over ${across}: ${mermaidText(`${item.ok ? '✓' : '✗'} ${item.text}`)}`)
        break
      }
    }
  }
  return `${lines.join('\n')}\n`
}

/** The diagram as a Markdown document: GitHub renders the fenced block. */
export function toMermaidMarkdown(model: SequenceModel, title: string): string {
  return `# ${title}\n\n\`\`\`mermaid\n${toMermaid(model)}\`\`\`\n`
}
