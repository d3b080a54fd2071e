#!/usr/bin/env bash
# Supply chain checks: `npm run deny`, and the first layer of `npm test`.
#  - cargo deny: licences (DESIGN.md's list), duplicate/banned crates and sources (crates.io
#    only), from deny.toml; these work offline. Advisories need the RustSec database from
#    GitHub: checked when it can be fetched, otherwise reported as skipped.
#  - npm audit --omit=dev: the packages that ship; needs the npm registry's audit endpoint,
#    reported as skipped when it does not answer.
# Fails on any licence, ban or source problem, and on advisories that could be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! cargo deny --version >/dev/null 2>&1; then
  echo "cargo-deny is missing: run scripts/setup.sh (it installs the pinned version)"; exit 1
fi

echo "== cargo deny: licenses, bans, sources"
cargo deny --log-level error check licenses bans sources

echo "== cargo deny: advisories"
set +e
out=$(timeout 120 cargo deny --log-level error check advisories 2>&1)
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "advisories ok"
elif grep -qiE "failed to (fetch|clone|open)|unable to (fetch|clone)|network|resolve host|could not|timed out" <<<"$out" || [ $rc -eq 124 ]; then
  echo "advisories SKIPPED: the RustSec advisory database could not be fetched (no network to GitHub)"
  grep -iE "error" <<<"$out" | head -3 || true
else
  echo "$out"
  exit $rc
fi

echo "== npm audit --omit=dev"
set +e
out=$(timeout 120 npm audit --omit=dev 2>&1)
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "$out" | tail -3
elif grep -qiE "audit endpoint returned an error|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|Method Not Allowed" <<<"$out"; then
  echo "npm audit SKIPPED: the registry's audit endpoint did not answer"
  grep -iE "npm (warn|error) audit" <<<"$out" | head -2 || true
else
  echo "$out"
  exit $rc
fi
