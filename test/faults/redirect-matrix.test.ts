import assert from 'node:assert/strict'
import {request} from 'node:http'
import {after, before, describe, it} from 'node:test'
import type {AuthServerHandle} from '../../src/stack/types.js'
import {Browser, encodeForm, formFields} from '../stack/authserver/browser.js'
import {admin, start} from '../stack/authserver/helpers.js'

// Fault suite, the `redirect` matrix (issue 19, R3-03 and R3-05): whatever a sign-in form's
// `redirect` holds, the server answers (never 500) and the Location it sends resolves, the way a
// browser's WHATWG URL parser resolves it, to a page of this server. A target that is a plain
// same-origin path of visible ASCII is followed as given; anything else goes to `/`.

const EMAIL = 'matrix@example.test'
const PASSWORD = 'matrix password 0123456789'

const REFUSED: Array<[string, string]> = [
  ['TAB inside (dropped by WHATWG: //evil.example)', '/\t/evil.example'],
  ['LF inside', '/\n/evil.example'],
  ['CR LF header injection', '/ok\r\nSet-Cookie: injected=1'],
  ['vertical tab', '/\u000b/evil.example'],
  ['NUL', '/ok\u0000'],
  ['DEL', '/ok\u007f'],
  ['escape character', '/\u001b]0;title\u0007'],
  ['space inside', '/a b'],
  ['leading space', ' /ok'],
  ['leading TAB', '\t//evil.example'],
  ['non-Latin-1', '/\u2603'],
  ['Latin-1 but not ASCII', '/caf\u00e9'],
  ['scheme-relative', '//evil.example/x'],
  ['backslash', '/\\evil.example'],
  ['absolute URL', 'https://evil.example/'],
  ['javascript: URL', 'javascript:alert(1)'],
  ['relative path', 'evil.example'],
  ['empty', ''],
]

const FOLLOWED = ['/', '/consent?session_id=abc', '/oauth/authorize?response_type=code&client_id=x&state=%2F%2Fevil', '/%09/evil.example', '/.//x', '/~user/a-b_c.d']

describe('fault suite: the redirect parameter of the sign-in form', () => {
  let h: AuthServerHandle
  before(async () => {
    h = await start()
    assert.equal((await admin(h, 'POST', '/admin/users', {email: EMAIL, password: PASSWORD})).status, 201)
  })
  after(() => h.stop())

  async function signInWith(target: string): Promise<{status: number; location: string | null; html: string}> {
    const b = new Browser(h.publicUrl)
    const page = await b.get('/login')
    assert.equal(page.status, 200)
    const fields = formFields(page.html, '/login')
    fields.set('email', [EMAIL])
    fields.set('password', [PASSWORD])
    fields.set('redirect', [target])
    const res = await b.post('/login', encodeForm(fields))
    return {status: res.status, location: res.headers.get('location'), html: res.html}
  }

  for (const [name, target] of REFUSED) {
    it(`refuses ${name}: 303 to /`, async () => {
      const r = await signInWith(target)
      assert.equal(r.status, 303, r.html)
      assert.equal(r.location, '/')
    })
  }

  for (const target of FOLLOWED) {
    it(`follows ${JSON.stringify(target)} as given, on this origin`, async () => {
      const r = await signInWith(target)
      assert.equal(r.status, 303, r.html)
      assert.equal(r.location, target)
      assert.equal(new URL(r.location!, h.issuer).origin, new URL(h.issuer).origin)
    })
  }

  it('renders the login page for every one of them (the value is escaped into the form, never a 500)', async () => {
    for (const [, target] of REFUSED) {
      const page = await new Browser(h.publicUrl).get(`/login?redirect=${encodeURIComponent(target)}`)
      assert.equal(page.status, 200, JSON.stringify(target))
      assert.equal(formFields(page.html, '/login').get('redirect')![0], target)
    }
  })

  it('a raw request line with a TAB or a non-ASCII byte in the query is answered, not crashed on', async () => {
    for (const raw of ['/login?redirect=/%09/x', '/login?redirect=/\u00e9']) {
      const status = await new Promise<number>((resolve, reject) => {
        const url = new URL(h.publicUrl)
        const req = request({host: url.hostname, port: url.port, path: raw, method: 'GET'}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
      assert.ok(status === 200 || status === 400, `${raw}: ${status}`)
    }
  })
})
