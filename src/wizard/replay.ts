import {shellArg as q} from '../shell.js'
import type {WizardPlan} from './questions.js'

/** The equivalent non-interactive command lines, so a session can be replayed in a script or CI. */
export function replayCommands(plan: WizardPlan, defaults: {issuer: string; adminUrl: string; mcpUrl: string; profile?: string}): string[] {
  const conn: string[] = []
  if (plan.issuer !== defaults.issuer) conn.push(`--issuer ${q(plan.issuer)}`)
  if (plan.adminUrl !== defaults.adminUrl) conn.push(`--admin-url ${q(plan.adminUrl)}`)
  if (plan.mcpUrl !== defaults.mcpUrl) conn.push(`--mcp-url ${q(plan.mcpUrl)}`)
  if (plan.resourceUri !== plan.mcpUrl) conn.push(`--resource ${q(plan.resourceUri)}`)
  if (defaults.profile) conn.push(`--profile ${q(defaults.profile)}`)
  const c = conn.length > 0 ? ` ${conn.join(' ')}` : ''
  const lines: string[] = []
  if (plan.startedStack) lines.push(`ap-demo ${plan.startedStack.args.join(' ')} &`)
  lines.push('export AUTHPLANE_ADMIN_API_KEY=...   # the admin key (never printed here)')
  lines.push(`ap-demo setup resource --slug ${q(plan.slug)} --uri ${q(plan.resourceUri)} --display-name ${q(plan.displayName)}${plan.scopeArgs.map((s) => ` --scope ${q(s)}`).join('')}${c}`)
  lines.push(`ap-demo setup client --name ${q(plan.clientName)} --scope ${q(plan.clientScope)}${c}`)
  if (plan.runVerify) lines.push(`ap-demo verify${plan.useDpop ? ' --dpop' : ''}${c}`)
  if (plan.useDpop) lines.push(`ap-demo mcp call echo --text hi --dpop${c}`)
  return lines
}
