#!/usr/bin/env bash
# The test suite on Node 22 (CI runs it after the Node 20 pass, on the same build). Node 22 comes
# from its npm platform package, installed by interop/install-tools.sh into the tools folder
# (AP_DEMO_INTEROP_TOOLS, default .interop-tools). better-sqlite3's native addon is built per Node
# ABI, so for the duration of this script node_modules/better-sqlite3/build holds one compiled for
# Node 22 (with the headers the platform package ships, no download); the Node 20 build is put back
# on every way out, so later steps on Node 20 find it as they left it. The Node 22 addon is kept in
# the tools folder, keyed by better-sqlite3 version and ABI, so a second run does not compile again.
#   bash scripts/test-node22.sh [test file substring...]    (npm run test:node22)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/index.js ] || { echo "test-node22: no build: run npm run build first" >&2; exit 1; }

tools="$(bash interop/install-tools.sh)"
node_pkg="$tools/node_modules/node-$(node -p process.platform)-$(node -p process.arch)"
node22="$node_pkg/bin/node"
echo "test-node22: $("$node22" --version) from $node22" >&2

sqlite=node_modules/better-sqlite3
version="$(node -p "require('./$sqlite/package.json').version")"
cache="$tools/better-sqlite3-$version-abi$("$node22" -p process.versions.modules)"
saved="$(mktemp -d)"
mv "$sqlite/build" "$saved/build"
restore() {
  rm -rf "$sqlite/build"
  mv "$saved/build" "$sqlite/build"
  rmdir "$saved"
}
trap restore EXIT
trap 'exit 130' INT TERM

if [ -f "$cache/better_sqlite3.node" ]; then
  mkdir -p "$sqlite/build/Release"
  cp "$cache/better_sqlite3.node" "$sqlite/build/Release/"
else
  echo "test-node22: compiling better-sqlite3 $version for Node 22 (about 80 s)" >&2
  PATH="$node_pkg/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$node_pkg" --no-audit --no-fund --loglevel=error >&2
  mkdir -p "$cache"
  cp "$sqlite/build/Release/better_sqlite3.node" "$cache/"
fi
"$node22" -e "new (require('./$sqlite'))(':memory:').close()"

"$node22" scripts/test.mjs "$@"
