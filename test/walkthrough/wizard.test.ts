// The wizard's questions in-process, with scripted answers, against the embedded stack on port 0.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {Environment, resolveConnection} from '../../src/config/settings.js'
import {startStack, type StackHandle} from '../../src/stack/index.js'
import {collectPlan, validate, type Prompter, type WizardPlan} from '../../src/wizard/questions.js'

const noEnv = new Environment({}, '/nonexistent')
const DOWN = 'http://127.0.0.1:9'

interface Asked {
  message: string
  /** What the prompt's validator says about a bad answer. */
  rejects?: string
}

/** Answers in order; records each question and what its validator says about "not a url". */
function scripted(answers: Array<string | boolean>, asked: Asked[]): Prompter {
  const next = <T>() => {
    if (answers.length === 0) throw new Error(`no scripted answer left after ${asked.map((a) => a.message).join(' / ')}`)
    return answers.shift() as T
  }
  const record = (o: {message: string; validate?: (v: string) => true | string}) => {
    const verdict = o.validate?.('not a url')
    asked.push({message: o.message, rejects: verdict === true ? undefined : verdict})
  }
  return {
    input: async (o) => {
      record(o)
      const answer = next<string>()
      return answer === '' ? (o.default ?? '') : answer
    },
    password: async (o) => (record(o), next<string>()),
    confirm: async (o) => (record(o), next<boolean>()),
    select: async (o) => (record(o), next()),
  }
}

const wiz = {note: () => {}, shown: (t: string) => t, binPath: '/nonexistent', dataDir: '/nonexistent', timeoutMs: 2000}

describe('the wizard\'s questions', () => {
  let stack!: StackHandle
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
  })
  after(async () => {
    await stack.stop()
  })

  it('Quit when nothing answers is a clean exit, not an error', async () => {
    const settings = resolveConnection('p', {issuer: DOWN, 'admin-url': DOWN, 'mcp-url': `${DOWN}/mcp`}, noEnv, {})
    const asked: Asked[] = []
    const plan = await collectPlan({}, settings, scripted(['quit'], asked), wiz)
    assert.deepEqual(plan, {quit: true})
    assert.equal(asked[0]!.message, 'What now?')
  })

  it('each URL prompt\'s example fits it; the slug rule says what it does (lower-casing)', async () => {
    const settings = resolveConnection('p', {issuer: DOWN, 'admin-url': DOWN, 'mcp-url': `${DOWN}/mcp`, 'admin-key': stack.adminKey}, noEnv, {})
    const asked: Asked[] = []
    // Enter other URLs (the stack's), then: slug, URI, scopes, client name, client scope, no verify.
    const answers = ['urls', stack.issuer, stack.adminUrl, stack.mcpUrl, 'Wiz-Demo', '', '', '', '', false]
    const plan = (await collectPlan({}, settings, scripted(answers, asked), wiz)) as WizardPlan
    const rejection = (start: string) => asked.find((a) => a.message.startsWith(start))?.rejects ?? ''
    assert.match(rejection('Issuer'), /example: http:\/\/localhost:9000\)$/)
    assert.match(rejection('Admin API URL'), /example: http:\/\/localhost:9001\)$/)
    assert.match(rejection('MCP server URL'), /example: http:\/\/localhost:8080\/mcp\)$/)
    // Wiz-Demo is accepted and becomes wiz-demo; the question and the rule both say so.
    assert.match(asked.find((a) => a.message.startsWith('Resource slug'))!.message, /lower-cased/)
    assert.equal(validate.slug('Wiz-Demo'), true)
    assert.match(String(validate.slug('Wiz Demo')), /after lower-casing, 1-64 of a-z, 0-9 and "-"/)
    assert.equal(plan.slug, 'wiz-demo')
    assert.equal(plan.issuer, stack.issuer)
    assert.equal(plan.resourceUri, stack.mcpUrl)
  })
})
