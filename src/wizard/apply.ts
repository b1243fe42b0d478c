import chalk from 'chalk'

import {ensureClient} from '../walkthrough/client.js'
import {saveEndpoints, type WalkthroughContext} from '../walkthrough/context.js'
import {ensureResource} from '../walkthrough/resource.js'
import {runVerify, type StepReport, type VerifyOptions, type VerifyReport} from '../walkthrough/verify.js'
import type {WizardPlan} from './questions.js'

export interface ApplyUi {
  note: (message: string) => void
  /** How text from outside (the server's names and URIs) is shown in a note: the CLI's terminal rule. */
  shown: (text: string) => string
  echoText: string
  /** The verify step display and error description of the CLI. */
  verify: Pick<VerifyOptions, 'onStep' | 'onStart' | 'describeError'>
}

/**
 * Phase 2 of the wizard: save the endpoints, then the same steps as `setup resource` and
 * `setup client` (one code path), then verify when asked (a failure ends as `verify` does).
 */
export async function applyPlan(plan: WizardPlan, ctx: WalkthroughContext, ui: ApplyUi): Promise<{resource: Awaited<ReturnType<typeof ensureResource>>; client: Awaited<ReturnType<typeof ensureClient>>; report?: VerifyReport}> {
  saveEndpoints(ctx.store, ctx.profile, {issuer: plan.issuer, adminUrl: plan.adminUrl, mcpUrl: plan.mcpUrl, resource: plan.resourceUri, adminKey: plan.saveAdminKey ? plan.adminKey : undefined, startedBy: plan.startedStack ? 'setup' : undefined})
  ui.note(chalk.bold('\nSetting up'))
  const resource = await ensureResource(ctx, {slug: plan.slug, uri: plan.resourceUri, displayName: plan.displayName, scopes: plan.scopes})
  ui.note(`${chalk.green('✔')} resource ${ui.shown(resource.resource.slug)} ${resource.action === 'created' ? 'created' : 'already registered (409), reused'} -> ${ui.shown(resource.resource.uri)}`)
  const client = await ensureClient(ctx, {name: plan.clientName, scope: plan.clientScope})
  ui.note(`${chalk.green('✔')} client ${ui.shown(client.client.name)} ${client.action} (${ui.shown(client.client.id)}); secret saved in ${ctx.store.path}`)
  if (!plan.runVerify) return {resource, client}
  ui.note(chalk.bold('\nVerifying'))
  // With plan.useDpop the caller has put the key into ctx (ctx.dpop): verify runs its DPoP steps.
  const report = await runVerify(ctx, {
    waitMs: 30_000,
    echoText: ui.echoText,
    slug: plan.slug,
    displayName: plan.displayName,
    clientName: plan.clientName,
    scope: plan.clientScope.split(' ')[0] ?? plan.clientScope,
    ...ui.verify,
  })
  ui.note(chalk.green.bold('ALL CHECKS PASSED'))
  return {resource, client, report}
}

export type {StepReport}
