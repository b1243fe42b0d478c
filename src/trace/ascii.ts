import {requestLabel} from './mermaid.js'
import type {SequenceModel} from './sequence.js'

// The same sequence as a compact text chart for a terminal: one lifeline per participant on the
// left, the arrow across them, the words to the right (notes wrap onto the next lines). No line is
// wider than `width` columns.

export const ASCII_WIDTH = 100

function length(text: string): number {
  return [...text].length
}

function fit(text: string, width: number): string {
  if (width <= 0) return ''
  const chars = [...text]
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`
}

/** Words into lines of at most `width` columns; a word longer than a line is cut. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let current = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && length(current) + 1 + length(word) > width) {
      lines.push(current)
      current = ''
    }
    current = current ? `${current} ${word}` : fit(word, width)
  }
  if (current) lines.push(current)
  return lines.length > 0 ? lines : ['']
}

export function toAscii(model: SequenceModel, width = ASCII_WIDTH): string {
  const n = model.participants.length
  // Lanes narrow as participants are added, so that the words keep at least half the width.
  const lane = Math.max(6, Math.min(12, Math.floor(width / 2 / n)))
  const chartWidth = lane * n
  const x = (i: number) => Math.floor(lane / 2) + i * lane
  const column = new Map(model.participants.map((p, i) => [p.id, i]))
  const textWidth = width - chartWidth - 1

  const lifelines = (): string[] => {
    const row = Array.from({length: chartWidth}, () => ' ')
    for (let i = 0; i < n; i++) row[x(i)] = '|'
    return row
  }
  const line = (row: string[], text: string) => `${row.join('')} ${text}`.trimEnd()

  // The header: each name centred on its lifeline, cut to its lane.
  const header = Array.from({length: chartWidth + lane}, () => ' ')
  model.participants.forEach((p, i) => {
    const name = [...fit(p.short, lane - 1)]
    const start = Math.max(0, x(i) - Math.floor((name.length - 1) / 2))
    name.forEach((ch, k) => (header[start + k] = ch))
  })
  const out: string[] = [fit(header.join('').trimEnd(), width), line(lifelines(), '')]
  for (const item of model.items) {
    switch (item.kind) {
      case 'step': {
        out.push(fit(`-- ${item.label} `, width - 2).padEnd(width, '-'))
        break
      }
      case 'request': {
        const row = lifelines()
        const to = x(column.get(item.to) ?? 0)
        for (let c = x(0) + 1; c < to; c++) row[c] = '-'
        row[to - 1] = item.failure ? 'x' : '>'
        out.push(line(row, fit(requestLabel(item), textWidth)))
        break
      }
      case 'note': {
        const who = model.participants[column.get(item.over) ?? 0]?.short ?? item.over
        for (const [k, part] of wrap(`${who}: ${item.text}`, textWidth - 2).entries()) out.push(line(lifelines(), `${k === 0 ? '*' : ' '} ${part}`))
        break
      }
      case 'end': {
        for (const part of wrap(`${item.ok ? '==' : '!!'} ${item.text}`, width)) out.push(part)
        break
      }
    }
  }
  return `${out.join('\n')}\n`
}
