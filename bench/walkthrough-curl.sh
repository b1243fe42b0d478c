#!/usr/bin/env bash
# The tier-02 walkthrough (authplane-contract.md §6) with nothing but curl and jq: the baseline that
# `ap-demo verify` is timed against in bench/run.mjs. Same checks, same order, same environment:
#
#   AUTHPLANE_ISSUER (or ISSUER_URL)   default http://localhost:9000
#   ADMIN_URL                          default http://localhost:9001
#   AUTHPLANE_ADMIN_API_KEY            required
#   MCP_URL                            default http://localhost:8080/mcp
#   AUTHPLANE_RESOURCE (or RESOURCE_URI) default http://localhost:8080/mcp
#   RESOURCE_SLUG (demo-mcp)  SCOPE (mcp:echo)  ECHO_TEXT (hello from tier 02)  WAIT_SECONDS (60)
#
# Prints one line per step and ALL CHECKS PASSED; any failure prints the offending response and
# exits 1.
set -euo pipefail

ISSUER="${AUTHPLANE_ISSUER:-${ISSUER_URL:-http://localhost:9000}}"
ADMIN_URL="${ADMIN_URL:-http://localhost:9001}"
ADMIN_KEY="${AUTHPLANE_ADMIN_API_KEY:-}"
MCP_URL="${MCP_URL:-http://localhost:8080/mcp}"
RESOURCE="${AUTHPLANE_RESOURCE:-${RESOURCE_URI:-http://localhost:8080/mcp}}"
SLUG="${RESOURCE_SLUG:-demo-mcp}"
SCOPE="${SCOPE:-mcp:echo}"
ECHO_TEXT="${ECHO_TEXT:-hello from tier 02}"
WAIT_SECONDS="${WAIT_SECONDS:-60}"
PROTOCOL_VERSION="2024-11-05"
ACCEPT_MCP="Accept: application/json, text/event-stream"

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done
[ -n "$ADMIN_KEY" ] || { echo "FAIL: AUTHPLANE_ADMIN_API_KEY is not set" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
BODY="$TMP/body"
HEADERS="$TMP/headers"
STEP=0
TOTAL=10

ok() { STEP=$((STEP + 1)); printf '[%2d/%d] OK   %s\n' "$STEP" "$TOTAL" "$*"; }

fail() {
  printf '[%2d/%d] FAIL %s\n' "$((STEP + 1))" "$TOTAL" "$1" >&2
  if [ -s "$BODY" ]; then
    echo "--- response body:" >&2
    head -c 2000 "$BODY" >&2
    echo >&2
  fi
  exit 1
}

# req METHOD URL [curl args...]: body to $BODY, headers to $HEADERS, prints the status ("000" when
# the server cannot be reached).
req() {
  local method="$1" url="$2"
  shift 2
  : >"$BODY"
  : >"$HEADERS"
  curl -sS --max-time 10 -X "$method" -o "$BODY" -D "$HEADERS" -w '%{http_code}' "$@" "$url" 2>"$TMP/curl.err" || echo -n "000"
}

# The JSON-RPC message of an MCP response, whether it came as JSON or as SSE frames.
mcp_json() {
  if grep -q '^data:' "$BODY"; then sed -n 's/^data: \{0,1\}//p' "$BODY"; else cat "$BODY"; fi
}

header() { awk -v name="$1" -F': *' 'tolower($1) == name { sub(/\r$/, "", $2); print $2 }' "$HEADERS" | tail -n 1; }

# The aud claim of a JWT, as compact JSON (the payload is base64url: padded and translated for jq).
jwt_aud() {
  jq -rn --arg t "$1" '$t | split(".")[1] | gsub("-"; "+") | gsub("_"; "/") | . + ("=" * ((4 - length % 4) % 4)) | @base64d | fromjson | .aud | tojson'
}

INIT_BODY="$(jq -cn --arg v "$PROTOCOL_VERSION" '{jsonrpc:"2.0", id:1, method:"initialize", params:{protocolVersion:$v, capabilities:{}, clientInfo:{name:"walkthrough-curl", version:"1.0.0"}}}')"

# 1. Discovery (RFC 8414), as the SDK does it: origin + well-known + issuer path; the document's
# issuer must equal ours byte for byte.
[[ "$ISSUER" =~ ^(https?://[^/]+)(/.*)?$ ]] || fail "AUTHPLANE_ISSUER \"$ISSUER\" is not an absolute http(s) URL"
ISSUER_PATH="${BASH_REMATCH[2]:-}"
METADATA_URL="${BASH_REMATCH[1]}/.well-known/oauth-authorization-server${ISSUER_PATH%/}"
deadline=$((SECONDS + WAIT_SECONDS))
until [ "$(req GET "$METADATA_URL")" = 200 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "discovery: $METADATA_URL did not answer 200 within ${WAIT_SECONDS}s ($(cat "$TMP/curl.err"))"
  sleep 1
done
IFS=$'\t' read -r announced TOKEN_ENDPOINT < <(jq -r '[.issuer // "", .token_endpoint // ""] | @tsv' "$BODY") || true
[ "$announced" = "$ISSUER" ] || fail "discovery: the server announces issuer \"$announced\", expected \"$ISSUER\" (byte for byte)"
[ -n "$TOKEN_ENDPOINT" ] || fail "discovery: no token_endpoint in the metadata"
ok "discovery ready (issuer $announced)"

# 2. The MCP server is up when it refuses an unauthenticated request.
deadline=$((SECONDS + WAIT_SECONDS))
while :; do
  status="$(req POST "$MCP_URL" -H 'Content-Type: application/json' -H "$ACCEPT_MCP" --data "$INIT_BODY")"
  [ "$status" = 401 ] || [ "$status" = 405 ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "MCP server: expected 401 without a token, got $status"
  sleep 1
done
ok "MCP server ready ($status without a token)"

# 3. The Mint resource; 409 on a re-run is fine when the existing one has our uri.
resource_json="$(jq -cn --arg slug "$SLUG" --arg uri "$RESOURCE" --arg scope "$SCOPE" \
  '{slug:$slug, uri:$uri, backend_kind:"mint", display_name:"Demo MCP", scopes:[{name:$scope, description:"echo tool"}]}')"
status="$(req POST "$ADMIN_URL/admin/resources" -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' --data "$resource_json")"
case "$status" in
  201) ok "resource $SLUG created -> $(jq -r .uri "$BODY")" ;;
  409)
    status="$(req GET "$ADMIN_URL/admin/resources?slug=$SLUG" -H "Authorization: Bearer $ADMIN_KEY")"
    [ "$status" = 200 ] || fail "resource: 409, then GET ?slug=$SLUG answered $status"
    existing_uri="$(jq -r 'if type == "array" then .[0].uri else .uri end // empty' "$BODY")"
    [ "$existing_uri" = "$RESOURCE" ] || fail "resource: slug $SLUG exists with uri \"$existing_uri\", not \"$RESOURCE\""
    ok "resource $SLUG already there (409), reused -> $existing_uri"
    ;;
  *) fail "resource: POST /admin/resources answered $status" ;;
esac

# 4. A confidential client_credentials client; the secret is shown only now.
client_json="$(jq -cn --arg scope "$SCOPE" \
  '{client_name:"demo-agent-ts", grant_types:["client_credentials"], token_endpoint_auth_method:"client_secret_basic", scope:$scope}')"
status="$(req POST "$ADMIN_URL/admin/clients" -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' --data "$client_json")"
[ "$status" = 201 ] || fail "client: POST /admin/clients answered $status"
IFS=$'\t' read -r CLIENT_ID CLIENT_SECRET < <(jq -r '[.client_id // "", .client_secret // ""] | @tsv' "$BODY") || true
[ -n "$CLIENT_ID" ] && [ -n "$CLIENT_SECRET" ] || fail "client: the response has no client_id/client_secret"
ok "client created $CLIENT_ID"

# 5. client_credentials token bound to the resource (RFC 8707): aud must be [resource].
mint() { # mint [resource]: prints the access token
  local args=(-u "$CLIENT_ID:$CLIENT_SECRET" -H 'Accept: application/json'
    --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE")
  [ $# -gt 0 ] && args+=(--data-urlencode "resource=$1")
  local status
  status="$(req POST "$TOKEN_ENDPOINT" "${args[@]}")"
  [ "$status" = 200 ] || return 1
  jq -er 'if (.token_type == "Bearer" or .token_type == "DPoP") and (.access_token | type == "string" and length > 0)
    then .access_token else error("no access token") end' "$BODY" 2>/dev/null
}
TOKEN="$(mint "$RESOURCE")" || fail "token: POST $TOKEN_ENDPOINT did not return a Bearer token"
aud="$(jwt_aud "$TOKEN")"
[ "$aud" = "[\"$RESOURCE\"]" ] || fail "token: aud is $aud, expected [\"$RESOURCE\"]"
ok "token minted (aud $aud)"

# 6. MCP initialize; the session id comes back in a header.
AUTH="Authorization: Bearer $TOKEN"
status="$(req POST "$MCP_URL" -H "$AUTH" -H 'Content-Type: application/json' -H "$ACCEPT_MCP" --data "$INIT_BODY")"
[ "$status" = 200 ] || fail "initialize: MCP server answered $status"
SESSION_ID="$(header mcp-session-id)"
[ -n "$SESSION_ID" ] || fail "initialize: no mcp-session-id header"
IFS=$'\t' read -r server_name negotiated < <(mcp_json | jq -r '"\(.result.serverInfo.name // "")\t\(.result.protocolVersion // "")"') || true
[ -n "$server_name" ] && [ -n "$negotiated" ] || fail "initialize: no serverInfo/protocolVersion in the result"
SESSION=(-H "$AUTH" -H 'Content-Type: application/json' -H "$ACCEPT_MCP" -H "mcp-session-id: $SESSION_ID" -H "mcp-protocol-version: $negotiated")

status="$(req POST "$MCP_URL" "${SESSION[@]}" --data '{"jsonrpc":"2.0","method":"notifications/initialized"}')"
[ "$status" = 202 ] || fail "notifications/initialized: MCP server answered $status, expected 202"
ok "MCP initialize ($server_name, protocol $negotiated, session $SESSION_ID)"

# 7. The echo tool bounces the text back.
call_json="$(jq -cn --arg text "$ECHO_TEXT" '{jsonrpc:"2.0", id:2, method:"tools/call", params:{name:"echo", arguments:{text:$text}}}')"
status="$(req POST "$MCP_URL" "${SESSION[@]}" --data "$call_json")"
[ "$status" = 200 ] || fail "echo: MCP server answered $status"
echoed="$(mcp_json | jq -er 'if .result.isError == true then error("isError") else [.result.content[]? | select(.type == "text") | .text] | join("\n") end')" ||
  fail "echo: the tool reported an error"
grep -qF -- "$ECHO_TEXT" <<<"$echoed" || fail "echo: got \"$echoed\", expected the text \"$ECHO_TEXT\""
ok "echo tool \"$echoed\""
# End the session rather than leave it to the idle sweep (not a check).
req DELETE "$MCP_URL" "${SESSION[@]}" >/dev/null

# 8-10. Audience binding: each of these must be refused with 401.
expect_401() { # expect_401 what [curl args...]
  local what="$1" status
  shift
  status="$(req POST "$MCP_URL" -H 'Content-Type: application/json' -H "$ACCEPT_MCP" "$@" --data "$INIT_BODY")"
  [ "$status" = 401 ] || fail "$what: expected 401, the MCP server answered $status"
  ok "refused: $what (401 $(jq -r '.error_description // empty' "$BODY" 2>/dev/null))"
}
expect_401 "no token"
NO_RESOURCE_TOKEN="$(mint)" || fail "token without resource: POST $TOKEN_ENDPOINT did not return a token"
expect_401 "token without resource" -H "Authorization: Bearer $NO_RESOURCE_TOKEN"
# Flip one character in the middle of the payload, keeping the signature.
IFS=. read -r h p s <<<"$TOKEN"
i=$((${#p} / 2))
c="${p:i:1}"
[ "$c" = A ] && c=B || c=A
expect_401 "tampered token" -H "Authorization: Bearer $h.${p:0:i}$c${p:i+1}.$s"

echo "ALL CHECKS PASSED"
