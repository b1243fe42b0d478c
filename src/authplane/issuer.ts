/**
 * Issuer comparison as Authplane's own SDKs make it: one trailing slash is not a difference.
 *
 * RFC 8414 §3.3 asks for identical strings, and the Authplane authserver announces exactly the
 * configured string. But Authplane's Python MCP server adapters (`authplane-mcp`,
 * `authplane-fastmcp`) name the issuer in their protected resource metadata through pydantic's
 * `AnyHttpUrl`, which writes `http://host:port/`; and the SDKs strip the trailing slash before
 * they compare (python-sdk `AuthplaneClient.create`, `MetadataCache._validate_metadata`; ts-sdk
 * `AuthplaneClient.create`). ap-demo strips exactly one trailing slash on both sides, at
 * discovery and in the resource-metadata checks; everything else (scheme, host case, port, a
 * second slash, `localhost` vs `127.0.0.1`) stays a difference. docs/fidelity.md has the sources.
 */
export function issuerKey(issuer: string): string {
  return issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
}

/** True when the two issuers are the same under the one-trailing-slash rule. */
export function sameIssuer(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && issuerKey(a) === issuerKey(b)
}

/** The entry of `list` that is the same issuer as `issuer`, if any. */
export function findIssuer(list: readonly unknown[], issuer: unknown): string | undefined {
  return list.find((entry): entry is string => sameIssuer(entry, issuer))
}
