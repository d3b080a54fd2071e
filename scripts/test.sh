#!/usr/bin/env bash
# Every test layer, in order: supply-chain checks (cargo deny, npm audit), the Rust core
# natively, the built package in Node, then the package and the demo page in headless
# Chromium, then the packed tarball as users install it (bundlers, Chromium, Firefox ESR,
# WebKitGTK, Deno, Bun). Fails on the first failing layer.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== supply chain (cargo deny, npm audit)"
bash scripts/deny.sh

echo "== cargo test (Rust core, native)"
cargo test --quiet
# The vendored crc32fast (its one change: the table built at run time in wasm32).
cargo test --quiet --manifest-path vendor/crc32fast/Cargo.toml --target-dir target

echo "== node:test (built package in Node)"
node --test --test-reporter=spec tests/node/

echo "== Playwright (headless Chromium)"
node --test --test-reporter=spec tests/browser/

echo "== the packed tarball: Node ESM/CJS, bundlers, three browser engines, Deno and Bun"
MEDIASLIM_PACK_DIR=$(mktemp -d)
export MEDIASLIM_PACK_DIR
trap 'rm -rf "$MEDIASLIM_PACK_DIR"' EXIT
node -e "import('./tests/package/helpers.mjs').then((m) => m.packTarball()).then((t) => console.log('packed', t.file, t.size, 'bytes'))"
node --test --test-reporter=spec tests/package/
