#!/usr/bin/env bash
# Every test layer, in order: the Rust core natively, the built package in Node, then the
# package and the demo page in headless Chromium. Fails on the first failing layer.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo test (Rust core, native)"
cargo test --quiet

echo "== node:test (built package in Node)"
node --test --test-reporter=spec tests/node/

echo "== Playwright (headless Chromium)"
node --test --test-reporter=spec tests/browser/
