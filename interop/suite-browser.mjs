#!/usr/bin/env node
// The browser of the conformance runs: `ap-demo login` opens the authorization URL with $BROWSER,
// as it would on a desktop, and this plays the user. The suite's authorization servers ask no one
// to sign in: their authorization endpoint redirects at once to the client's redirect URI, so
// following the redirects is all a user would do. The last hop lands on ap-demo's loopback listener.
//   BROWSER="node interop/suite-browser.mjs" ap-demo login ...
const url = process.argv.at(-1)
try {
  const response = await fetch(url, {redirect: 'follow', signal: AbortSignal.timeout(30_000)})
  await response.text()
  process.exit(0)
} catch (error) {
  console.error(`suite-browser: ${url}: ${error.message}`)
  process.exit(1)
}
