#!/usr/bin/env bash
# Builds the npm package payload into pkg/: the Rust core as wasm (wasm-pack, then the npm
# binaryen wasm-opt, since Debian's is too old) and the TypeScript API (tsc).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '[build] %s\n' "$*"; }

say "wasm (cargo + wasm-bindgen)"
wasm-pack --quiet build --release --target web --no-pack --no-opt \
  --out-dir pkg/wasm --out-name mediaslim_core >/dev/null
rm -f pkg/wasm/.gitignore

# wasm-opt only when the module changed (it takes ~20 s and the result is cached).
wasm=pkg/wasm/mediaslim_core_bg.wasm
stamp=target/wasm-opt.stamp
src_hash=$(sha256sum "$wasm" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$src_hash" ] && [ -f target/wasm-opt.out.wasm ]; then
  cp target/wasm-opt.out.wasm "$wasm"
else
  say "wasm-opt -O3"
  node_modules/binaryen/bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$wasm" -o target/wasm-opt.out.wasm
  cp target/wasm-opt.out.wasm "$wasm"
  echo "$src_hash" > "$stamp"
fi

say "TypeScript"
node_modules/.bin/tsc -p js/tsconfig.json
say "pkg/ ready ($(du -k "$wasm" | cut -f1) KB wasm, $(gzip -9c "$wasm" | wc -c | awk '{printf "%d", $1/1024}') KB gzip)"
