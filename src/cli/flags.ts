import {Flags} from '@oclif/core'

import {ENV} from '../config/settings.js'
import {LEGACY_REVISION, MCP_PROTOCOL_CHOICES, MCP_PROTOCOL_ENV, MODERN_REVISION} from '../mcp/protocol.js'
import {revealSecretArg} from './secret-args.js'

// Every flag that more than one command takes is defined once, here. A command spreads the sets
// it uses into its own `static flags` and nothing else: `config show` takes `...profileFlags`,
// `token mint` takes `...serverFlags, ...requestFlags, ...clientFlags`. A flag that every command
// talking to a server needs goes into `requestFlags`: one line, and those commands all have it.

/** The profile of the local store: every command that reads or writes it. */
export const profileFlags = {
  profile: Flags.string({
    summary: 'Profile of the local store.',
    description: `Env ${ENV.profile}. Default: the active profile (ap-demo config use), else "default".`,
  }),
}

const issuer = Flags.string({
  summary: 'Authplane issuer, exactly as the server announces it.',
  description: `Env ${ENV.issuer}. Default http://localhost:9000. Compared with the metadata's issuer as Authplane's SDKs compare it: exactly, except that one trailing slash is not a difference.`,
  helpGroup: 'SERVER',
})
const mcpUrl = Flags.string({
  summary: 'URL of the MCP endpoint.',
  description: `Env ${ENV.mcpUrl}. Default http://localhost:8080/mcp.`,
  helpGroup: 'SERVER',
})
const resource = Flags.string({
  summary: 'Audience the tokens are bound to (RFC 8707 resource).',
  description: `Env ${ENV.resource}. Default: the profile's resource, else the MCP URL. Must equal the registered resource uri and the MCP server's expected audience byte for byte.`,
  helpGroup: 'SERVER',
})

/** The admin API: commands that register or delete resources and clients. */
export const adminFlags = {
  'admin-url': Flags.string({
    summary: 'Base URL of the Authplane admin API.',
    description: `Env ${ENV.adminUrl}. Default http://localhost:9001.`,
    helpGroup: 'SERVER',
  }),
  'admin-key': Flags.string({
    summary: 'Admin API key (prefer the environment).',
    description: `Env ${ENV.adminKey}. Never required on the command line: the environment, ./.env, the profile (ap-demo stack up saves it) or a prompt also work.`,
    helpGroup: 'SERVER',
    parse: async (input) => revealSecretArg(input),
  }),
}

/** Where the authorization server and the MCP server are (and the profile that remembers them). */
export const serverFlags = {...profileFlags, issuer, 'mcp-url': mcpUrl, resource}

/** Both servers and the admin API: the walkthrough commands. */
export const connectionFlags = {...serverFlags, ...adminFlags}

/** How requests are sent and shown: every command that talks to a server. */
export const requestFlags = {
  'print-curl': Flags.boolean({
    summary: 'Print each HTTP request as a curl command (stderr).',
    description:
      'Secrets never appear: each is replaced by the shell variable that holds it ($AUTHPLANE_ADMIN_API_KEY, $AUTHPLANE_CLIENT_SECRET, $ACCESS_TOKEN, $MCP_SESSION_ID), so the lines are safe to share and run once those are exported.',
    helpGroup: 'REQUEST',
  }),
  'dry-run': Flags.boolean({
    summary: 'Print the first changing request; do not send it.',
    description:
      'Requests that change nothing (discovery, lookups, the MCP probe without a token) are still sent so that the printed requests are the real ones; the first request that would change state (or mint a token) is printed as curl and not sent, and the command stops there with exit 0.',
    helpGroup: 'REQUEST',
  }),
  'request-timeout': Flags.integer({
    summary: 'Seconds to wait for each HTTP request (1-600).',
    description: 'Default 10, as the Authplane SDK.',
    default: 10,
    min: 1,
    max: 600,
    helpGroup: 'REQUEST',
  }),
  har: Flags.string({
    summary: 'Save the run\'s HTTP exchanges to FILE (HAR 1.2, no secrets).',
    description:
      'Opens in a browser\'s network panel (Import HAR). The admin key, client secrets, tokens, Authorization and DPoP headers become [redacted <kind> <fingerprint>], the same fingerprint for the same secret within the file. Written atomically with mode 0600, also when the run fails. See docs/trace.md.',
    helpGroup: 'REQUEST',
  }),
}

/** The run drawn as a sequence diagram (docs/trace.md): verify, and the MCP calls a discovery may lead anywhere. */
export const diagramFlags = {
  diagram: Flags.string({
    summary: 'Sequence diagram of the run: Mermaid, ascii or FILE.',
    description:
      'A bare --diagram prints Mermaid after the command\'s output; --diagram=ascii a chart within 100 columns. FILE.md gets Markdown with a mermaid block (GitHub renders it), FILE.txt the text chart, any other FILE plain Mermaid. With --json the diagram is the envelope\'s "diagram" field. Before a positional argument write --diagram=mermaid.',
    helpGroup: 'REQUEST',
  }),
}

/** The client a token is minted for: token mint, mcp call, mcp tools. */
export const clientFlags = {
  'client-id': Flags.string({
    summary: 'A client_credentials client (else the configured one).',
    description: `Env ${ENV.clientId} (with ${ENV.clientSecret}), else the client saved by ap-demo setup client. For mcp call/tools, without --issuer it implies --discover.`,
    helpGroup: 'CLIENT',
  }),
  'client-secret': Flags.string({
    summary: `Its client_secret (prefer ${ENV.clientSecret}).`,
    description: 'Flags show in the process list; the environment does not. Sent with HTTP Basic authentication (client_secret_basic).',
    helpGroup: 'CLIENT',
    parse: async (input) => revealSecretArg(input),
  }),
  'client-key': Flags.string({
    summary: 'Its PKCS#8 PEM key: private_key_jwt (RFC 7523), no secret.',
    description:
      'The --client-id client authenticates with a JWT client assertion signed with this key (iss = sub = client_id, aud = the issuer), as the MCP client-credentials extension (SEP-1046) recommends. EC (P-256/384/521), RSA (2048+ bits) or Ed25519, not encrypted. Authplane does not announce private_key_jwt: its token endpoint reads only client secrets and answers invalid_client.',
    helpGroup: 'CLIENT',
  }),
  scope: Flags.string({
    summary: 'Scope to request (repeatable).',
    description: 'Default: the saved client\'s scope; when discovering, the 401 challenge\'s scope, else the metadata\'s scopes_supported.',
    multiple: true,
    helpGroup: 'CLIENT',
  }),
  'no-cache': Flags.boolean({summary: 'Mint a new token; skip the cache.', description: 'The new token is not cached either.', helpGroup: 'CLIENT'}),
}

/** Finding the authorization server from the MCP server: mcp call, mcp tools. */
export const discoverFlags = {
  discover: Flags.boolean({
    summary: 'Find the issuer from the MCP server\'s 401 (RFC 9728).',
    description:
      'Calls without a token first; on 401 follows resource_metadata to the protected resource metadata, takes its authorization server, discovers that server\'s metadata and mints a client_credentials token with resource = the metadata\'s resource, byte for byte. With --issuer, the metadata must list that issuer. Implied by --client-id without --issuer.',
    helpGroup: 'CLIENT',
  }),
}

/** The MCP protocol revision: every command that speaks MCP (mcp call, mcp tools, verify, setup). */
export const protocolFlags = {
  protocol: Flags.string({
    summary: `MCP revision: auto, ${LEGACY_REVISION} or ${MODERN_REVISION}.`,
    description: `Env ${MCP_PROTOCOL_ENV}. Default auto: probe with server/discover and speak ${MODERN_REVISION} (stateless) when the server does, else fall back to ${LEGACY_REVISION} (initialize and a session). A revision pins it: no probe, no fallback. See docs/compatibility.md.`,
    options: [...MCP_PROTOCOL_CHOICES],
    helpValue: '<revision>',
    helpGroup: 'SERVER',
  }),
}

/** Commands that may prompt (admin key, confirmation, the wizard's questions). */
export const inputFlags = {
  'no-input': Flags.boolean({
    summary: 'Never prompt; fail naming the missing flags.',
    description: 'Also implied when stdin or stdout is not a terminal, or when the CI environment variable is set.',
    env: 'AP_DEMO_NO_INPUT',
  }),
}

/** Confirmation for commands that delete or take defaults without asking. */
export const yesFlags = {
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.', description: 'Required when there is no terminal to ask on (scripts, CI).'}),
}

/** The MCP server's session cap: stack up and stack mcp. */
export const mcpSessionFlags = {
  'max-sessions': Flags.integer({
    summary: 'Most MCP sessions kept open at once (1-100000).',
    description: 'Clients that open sessions and walk away cannot exhaust memory: when the cap is reached, the least recently used idle session is closed to admit a new one (a busy one only when none is idle). Idle sessions also close after 10 minutes.',
    default: 1000,
    min: 1,
    max: 100_000,
  }),
}

/** RFC 9449 DPoP for the client: token mint, mcp call, verify. */
export const dpopFlags = {
  dpop: Flags.boolean({
    summary: 'Bind the token to the profile\'s key (RFC 9449 DPoP).',
    description:
      'The token request carries a DPoP proof, the token comes back as token_type DPoP with cnf.jkt = the key\'s thumbprint, and each request to the MCP server sends the token ("Authorization: DPoP <token>", or Bearer for servers that read only Bearer: --dpop-scheme) with a fresh proof (ath = the token\'s hash). The profile\'s ES256 key is created on first use and kept in the store (0600). A server that demands a nonce gets one retry. See docs/dpop.md.',
    helpGroup: 'DPOP',
  }),
  'dpop-key': Flags.string({
    summary: 'PKCS#8 PEM key for the proofs (implies --dpop).',
    description: 'ES256 (a P-256 EC key) or RS256 (an RSA key of 2048 bits or more), not encrypted. For example: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out agent.pem',
    helpGroup: 'DPOP',
  }),
}

/** How a DPoP-bound token is presented to the MCP server: mcp call, mcp tools, verify. */
export const dpopSchemeFlags = {
  'dpop-scheme': Flags.string({
    summary: 'Scheme of the bound token: auto, dpop or bearer.',
    description:
      'With --dpop, the token goes as "Authorization: DPoP <token>" (RFC 9449 §7.1) or, for servers that read only Bearer (Authplane\'s Python adapters, on the MCP Python SDK), as "Authorization: Bearer <token>"; the DPoP proof header goes with it either way. auto (the default) starts with DPoP and follows the server\'s 401 challenge: when it offers only Bearer, the request is sent again once as Bearer, and the rest of the run keeps that. See docs/dpop.md.',
    options: ['auto', 'dpop', 'bearer'],
    helpGroup: 'DPOP',
  }),
}

/** The tier-01 MCP server's tier-03 options: stack up (embedded) and stack mcp. */
export const mcpPolicyFlags = {
  'mcp-dpop': Flags.string({
    summary: 'Inbound DPoP at the MCP server: off, allowed or required.',
    description:
      'off (tier 01): DPoP-bound tokens and DPoP headers are refused. allowed: Bearer tokens, and DPoP-bound tokens with valid proofs. required: DPoP-bound tokens only. With allowed or required the resource metadata announces dpop_signing_alg_values_supported and dpop_bound_access_tokens_required. See docs/dpop.md.',
    options: ['off', 'allowed', 'required'],
    default: 'off',
    helpGroup: 'TIER 03',
  }),
  'mcp-dpop-nonce': Flags.boolean({
    summary: 'The MCP server demands its nonce in proofs (RFC 9449 §9).',
    description: 'Every answer carries the current nonce in DPoP-Nonce; a proof without it gets 401 use_dpop_nonce. Needs --mcp-dpop allowed or required.',
    helpGroup: 'TIER 03',
  }),
  'mcp-protocol': Flags.string({
    summary: 'MCP eras served at /mcp: both, 2025-11-25 or 2026-07-28.',
    description:
      'both (default): 2025 clients get initialize, a session and the GET stream as before; 2026-07-28 clients are served statelessly (server/discover, the protocol version in each request). 2025-11-25: the 2025 era only, as a server that predates 2026-07-28 (a server/discover probe gets 400, so a negotiating client falls back). 2026-07-28: the stateless era only (an initialize gets -32022). The same token, DPoP and scope checks in every mode.',
    options: ['both', '2025-11-25', '2026-07-28'],
    default: 'both',
    helpValue: '<eras>',
    helpGroup: 'TIER 03',
  }),
  'tool-scope': Flags.string({
    summary: 'A scope a tool requires, as TOOL=SCOPE (repeatable).',
    description: 'On top of the server\'s base scope (mcp:echo). A tools/call without it gets 403 insufficient_scope naming the scopes in WWW-Authenticate. The server\'s tools: echo and whoami. Example: --tool-scope whoami=mcp:whoami',
    multiple: true,
    helpGroup: 'TIER 03',
  }),
}

/** Browser origins trusted by CORS: stack up (both servers) and stack mcp. */
export const corsFlags = {
  'cors-origin': Flags.string({
    summary: 'A web origin browsers may call from (CORS, repeatable).',
    description: 'CORS, as the real server\'s setting: needed by clients that run in a web page, e.g. --cors-origin http://localhost:6274 for the MCP Inspector; * allows any origin. The MCP server answers it on /mcp and its resource metadata, and its DNS-rebinding guard accepts it as Origin. Default none.',
    multiple: true,
  }),
}

/**
 * Signing a user in through a browser: `login` (its own flags, shown in full), and the step-up
 * authorizations of `mcp call`, `mcp tools` and `verify --user` (a names-only SIGN-IN group there).
 */
export function browserFlags(helpGroup?: string) {
  return {
    'no-browser': Flags.boolean({
      summary: 'Print the sign-in address; do not open a browser.',
      description:
        'For SSH sessions and CI. Open the address in any browser; the redirect comes back to this machine\'s loopback address (forward the port with ssh -L, see --callback-port), or paste the address the browser ends on into the terminal. Without it ap-demo opens $BROWSER, else the system\'s browser, and prints the address too.',
      helpGroup,
    }),
    'callback-port': Flags.integer({
      summary: 'Loopback port the browser is sent back to (0-65535).',
      description: 'The redirect URI is http://127.0.0.1:PORT/callback (RFC 8252). Default: the port the client was registered with when it is free, else any free port. 0 = any free port.',
      min: 0,
      max: 65_535,
      helpGroup,
    }),
    'login-timeout': Flags.integer({
      summary: 'Seconds to wait for the sign-in in the browser (1-3600).',
      description: 'Default 300. A denied consent at Authplane ends here too: it shows "Access Denied" and does not send the browser back.',
      default: 300,
      min: 1,
      max: 3600,
      helpGroup,
    }),
  }
}

/**
 * `ap-demo doctor`: an MCP URL, optionally the issuer the client belongs to, and the client. It
 * always mints afresh (no --no-cache) and registers nothing (no admin flags).
 */
export const doctorFlags = {
  ...profileFlags,
  'mcp-url': mcpUrl,
  issuer: Flags.string({
    summary: 'The issuer your client belongs to (optional).',
    description: `Default: the first authorization server the MCP server's resource metadata names. Given, the metadata must name it (one trailing slash alone is not a difference). It is also the issuer the configured client (${ENV.clientId}, ./.env or the profile's) belongs to: that client's secret goes to no other server.`,
    helpGroup: 'SERVER',
  }),
  'client-id': clientFlags['client-id'],
  'client-secret': clientFlags['client-secret'],
  scope: clientFlags.scope,
}
