// Each client scenario of the conformance suite (0.1.16) as the ap-demo commands a user would type
// for it, or the reason it does not apply. interop/conformance-client.mjs runs the commands;
// interop/client-scenarios.mjs runs every scenario listed here and refuses a suite scenario that is
// not (a new one must be mapped or given a reason, never skipped without a word).

/** The fixed client_id URL of auth/basic-cimd (the suite's CIMD_CLIENT_METADATA_URL): it need not resolve. */
export const SUITE_CIMD_URL = 'https://conformance-test.local/client-metadata.json'

/** Sign in, then call the suite's tool as that user: the interactive client's path. */
function signInThenCall(serverUrl, login = []) {
  return [
    ['login', '--mcp-url', serverUrl, '--login-timeout', '30', ...login],
    ['mcp', 'call', 'test-tool', '--mcp-url', serverUrl, '--login-timeout', '30', '--json'],
  ]
}

/**
 * scenario -> {commands, env} or {skip: reason}. `context` is MCP_CONFORMANCE_CONTEXT; `keyFile`
 * holds its private_key_pem (mode 0600).
 */
export function commandsFor(scenario, {serverUrl, context = {}, keyFile} = {}) {
  switch (scenario) {
    // No token involved: --discover calls without one and only looks for an authorization server on 401.
    case 'initialize':
      return {commands: [['mcp', 'tools', '--discover', '--mcp-url', serverUrl, '--json']]}
    case 'tools_call':
      return {commands: [['mcp', 'call', 'add_numbers', '--a', '2', '--b', '3', '--discover', '--mcp-url', serverUrl, '--json']]}

    // The authorization code flow: discovery in the spec's order, registration by DCR, PKCE, scope
    // selection, step-up (in mcp call: the second authorization), client authentication as registered.
    case 'auth/metadata-default':
    case 'auth/metadata-var1':
    case 'auth/metadata-var2':
    case 'auth/metadata-var3':
    case 'auth/scope-from-www-authenticate':
    case 'auth/scope-from-scopes-supported':
    case 'auth/scope-omitted-when-undefined':
    case 'auth/scope-step-up':
    case 'auth/scope-retry-limit':
    case 'auth/token-endpoint-auth-basic':
    case 'auth/token-endpoint-auth-post':
    case 'auth/token-endpoint-auth-none':
    case 'auth/2025-03-26-oauth-metadata-backcompat':
    case 'auth/2025-03-26-oauth-endpoint-fallback':
    case 'auth/resource-mismatch':
    case 'auth/offline-access-scope':
    case 'auth/offline-access-not-supported':
      return {commands: signInThenCall(serverUrl)}
    // The user hosts ap-demo's Client ID Metadata Document and says where: the suite's fixed URL.
    case 'auth/basic-cimd':
      return {commands: signInThenCall(serverUrl, ['--client-metadata-url', SUITE_CIMD_URL])}
    // A client registered beforehand (the server offers no DCR); the secret in the environment.
    case 'auth/pre-registration':
      return {commands: signInThenCall(serverUrl, ['--client-id', context.client_id]), env: {AUTHPLANE_CLIENT_SECRET: context.client_secret}}

    // client_credentials, the authorization server found from the server's 401 alone.
    case 'auth/client-credentials-basic':
      return {
        commands: [['mcp', 'call', 'test-tool', '--mcp-url', serverUrl, '--client-id', context.client_id, '--json']],
        env: {AUTHPLANE_CLIENT_SECRET: context.client_secret},
      }
    case 'auth/client-credentials-jwt':
      return {commands: [['mcp', 'call', 'test-tool', '--mcp-url', serverUrl, '--client-id', context.client_id, '--client-key', keyFile, '--json']]}

    case 'auth/cross-app-access-complete-flow':
      return {
        skip:
          'SEP-990 enterprise-managed authorization: the client exchanges an identity provider\'s ID token for an ID-JAG (RFC 8693 token exchange at the IdP) and that for an access token (RFC 7523 jwt-bearer grant). ap-demo signs users in with the authorization code flow and has no identity-provider session to start from; Authplane serves the jwt-bearer grant only with XAA enabled.',
      }
    default:
      return undefined
  }
}
