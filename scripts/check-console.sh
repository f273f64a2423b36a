#!/usr/bin/env bash
# Checks the web console (console/): its TypeScript type-checks (strict),
# its unit tests pass, and the built assets committed under runtime/console-dist/, which the
# worker embeds, are exactly what the sources build to. Fails with the
# command to run when they are not. Needs `npm ci` in console/ (setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/console"
npx --no-install tsc --noEmit
node test/unit.mjs >/dev/null 2>&1 || node test/unit.mjs
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
node build.mjs --out "$fresh" >/dev/null 2>&1 || node build.mjs --out "$fresh"
if ! diff -r "$fresh" "$root/runtime/console-dist" >/dev/null; then
  echo "check-console: runtime/console-dist/ is not what console/ builds to:" >&2
  diff -rq "$fresh" "$root/runtime/console-dist" >&2 || true
  echo "check-console: run \`(cd console && npm run build)\` and commit runtime/console-dist/" >&2
  exit 1
fi
echo "check-console: types check, runtime/console-dist/ is up to date"
