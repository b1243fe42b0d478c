// Which tool doctor may call to prove that a call works, on a server it knows nothing about: one
// that cannot change anything. Tool annotations (MCP spec, "Tool annotations") are hints from the
// server, so they are used only to rule a tool out or to prefer a read-only one; the tool's name
// rules it out too. A tool that needs arguments doctor cannot know is not called at all.

/** The part of an MCP tool doctor looks at. */
export interface ToolShape {
  name: string
  inputSchema?: {properties?: Record<string, unknown>; required?: string[]}
  annotations?: {readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; title?: string}
}

export interface ToolChoice {
  name: string
  arguments: Record<string, unknown>
  /** Why this one, in a few words. */
  reason: string
}

/** Verbs that name a change: a tool whose name holds one of them is never called by doctor. */
const CHANGING = new Set(
  [
    'add', 'append', 'apply', 'approve', 'archive', 'assign', 'ban', 'block', 'book', 'buy', 'cancel', 'charge', 'clear', 'close', 'commit',
    'create', 'delete', 'deploy', 'destroy', 'disable', 'drop', 'edit', 'enable', 'erase', 'exec', 'execute', 'format', 'grant', 'import',
    'insert', 'install', 'invite', 'invoke', 'kill', 'launch', 'lock', 'merge', 'modify', 'move', 'order', 'overwrite', 'patch', 'pay',
    'post', 'publish', 'purge', 'push', 'put', 'reboot', 'register', 'reject', 'remove', 'rename', 'replace', 'reset', 'restart',
    'restore', 'revoke', 'rm', 'rollback', 'run', 'save', 'schedule', 'send', 'set', 'shutdown', 'start', 'stop', 'submit', 'terminate',
    'transfer', 'trigger', 'truncate', 'uninstall', 'unlock', 'update', 'upload', 'upsert', 'wipe', 'write',
  ],
)

/** Names of tools that only answer (the tier-01 `echo`, a `ping`). */
const ECHO_LIKE = new Set(['echo', 'ping'])

/** `deleteAllFiles`, `delete_all-files`, `files.delete` -> delete, all, files. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase())
}

/** Why doctor will not call this tool, or undefined when it may. */
export function whyNotCalled(tool: ToolShape): string | undefined {
  if (tool.annotations?.destructiveHint === true) return 'annotated destructiveHint'
  if (tool.annotations?.readOnlyHint === false) return 'annotated readOnlyHint: false'
  const verb = nameWords(tool.name).find((w) => CHANGING.has(w))
  if (verb) return `its name says "${verb}"`
  return undefined
}

/** The arguments doctor can give: none, or a text for each required string of an echo-like tool. */
function argumentsFor(tool: ToolShape): Record<string, unknown> | undefined {
  const required = tool.inputSchema?.required ?? []
  if (required.length === 0) return {}
  if (!nameWords(tool.name).some((w) => ECHO_LIKE.has(w))) return undefined
  const args: Record<string, unknown> = {}
  for (const name of required) {
    const type = (tool.inputSchema?.properties?.[name] as {type?: unknown} | undefined)?.type
    if (type !== 'string') return undefined
    args[name] = 'ap-demo doctor'
  }
  return args
}

/**
 * The safest tool to call: read-only by annotation first, then echo/ping, then any other whose
 * name and annotations suggest no change and that takes no required arguments. Undefined when
 * none qualifies: doctor then stops after tools/list and says so.
 */
export function chooseSafeTool(tools: readonly ToolShape[]): {choice?: ToolChoice; refused: Array<{name: string; why: string}>} {
  const refused: Array<{name: string; why: string}> = []
  const candidates: Array<ToolChoice & {rank: number}> = []
  for (const tool of tools) {
    const why = whyNotCalled(tool)
    if (why) {
      refused.push({name: tool.name, why})
      continue
    }
    const args = argumentsFor(tool)
    if (!args) {
      refused.push({name: tool.name, why: `it needs arguments (${(tool.inputSchema?.required ?? []).join(', ')})`})
      continue
    }
    const readOnly = tool.annotations?.readOnlyHint === true
    const echo = nameWords(tool.name).some((w) => ECHO_LIKE.has(w))
    const reason = readOnly ? 'annotated readOnlyHint' : echo ? 'it only answers (echo)' : 'no required arguments, and nothing in its name or annotations suggests a change (a guess)'
    candidates.push({name: tool.name, arguments: args, reason, rank: readOnly ? 0 : echo ? 1 : 2})
  }
  candidates.sort((a, b) => a.rank - b.rank)
  const best = candidates[0]
  return {refused, ...(best ? {choice: {name: best.name, arguments: best.arguments, reason: best.reason}} : {})}
}
