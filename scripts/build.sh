#!/usr/bin/env bash
# Builds the npm package payload into pkg/: the Rust core as four wasm modules (wasm-pack,
# then the npm binaryen wasm-opt, since Debian's is too old) and the TypeScript API (tsc).
#   mediaslim_probe header parsing only (`probe`, run in the calling thread): no pixel
#                   decoding, no encoder, no resizer (built without features)
#   mediaslim_core  JPEG, PNG and WebP decoding, resize, JPEG and WebP output, probe,
#                   placeholder: what a page loads first (built with the `pixels` feature only)
#   mediaslim_plus  the core plus PNG output (oxipng, palettes), scoring (`quality: "auto"`,
#                   `score`, `compare`), GIF and BMP pixels, and the AVIF container around a
#                   browser's AV1 frames; loaded on the first job that needs one of them
#   mediaslim_full  everything: also the AVIF encoder (libaom) and video (rav1e, muxers);
#                   loaded on the first job that needs one of them
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '[build] %s\n' "$*"; }
mkdir -p target

optimize_wasm() { # wasm-opt only when the module changed (it takes ~30 s; results are cached)
  local wasm=$1 level=${2:--O3} cached=target/$(basename "$1" .wasm).opt.wasm stamp=target/$(basename "$1" .wasm).opt.stamp
  local hash; hash=$(sha256sum "$wasm" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ] || [ ! -f "$cached" ]; then
    say "wasm-opt $level $(basename "$wasm")"
    node_modules/binaryen/bin/wasm-opt "$level" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue "$wasm" -o "$cached"
    echo "$hash" > "$stamp"
  fi
  cp "$cached" "$wasm"
}

build_libaom() { # libaom for wasm32 with CMake, once per source version and settings (~1 min on 2 cores)
  # Sources: the release in scripts/libaom.sh, fetched by scripts/setup.sh.
  . scripts/libaom.sh
  local out=target/libaom-wasm32 work=target/libaom-wasm32-build src=$PWD/$AOM_SRC key
  [ -f "$src/aom/aomcx.h" ] || { say "libaom sources missing in $src: run scripts/setup.sh"; exit 1; }
  # Encoder only, 8-bit only (src/encode/avif.rs feeds it 8-bit samples), generic C, one thread,
  # no file I/O. -O2: the full module 0.1 MB gzip smaller than at -O3 and encodes as fast; -Os
  # saved 0.18 MB more but encoded ~10% slower. Without -msimd128 (clang's auto-vectorising)
  # it is 0.08 MB gzip smaller again and no slower (bench/avif-settings.mjs, 1600 px photo).
  local args=(-DCMAKE_TOOLCHAIN_FILE="$PWD/scripts/wasm32-clang.cmake" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX="$PWD/$out" -DCMAKE_INSTALL_LIBDIR=lib -DAOM_TARGET_CPU=generic
    -DCONFIG_MULTITHREAD=0 -DCONFIG_RUNTIME_CPU_DETECT=0 -DCONFIG_AV1_DECODER=0 -DCONFIG_WEBM_IO=0
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCONFIG_PIC=0 -DCONFIG_LIBYUV=0 -DCONFIG_AV1_HIGHBITDEPTH=0 -DENABLE_DOCS=0 -DENABLE_EXAMPLES=0 -DENABLE_TESTDATA=0 -DENABLE_TESTS=0 -DENABLE_TOOLS=0)
  key=$(printf '%s\n' "$src" "${args[@]}" | cat - scripts/wasm32-clang.cmake src/encode/aom/include/setjmp.h | sha256sum | cut -d' ' -f1)
  if [ -f "$out/lib/libaom.a" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$key" ]; then return; fi
  say "libaom for wasm32 (CMake, once)"
  rm -rf "$work" "$out"
  local log=target/libaom-wasm32-build.log
  if ! { cmake -S "$src" -B "$work" "${args[@]}" && cmake --build "$work" --target aom -j "$(nproc)"; } >"$log" 2>&1; then
    tail -n 40 "$log"
    say "libaom build failed (full log: $log)"
    exit 1
  fi
  mkdir -p "$out/lib/pkgconfig" "$out/include/aom"
  cp "$work/libaom.a" "$out/lib/"
  cp "$src"/aom/*.h "$out/include/aom/"
  echo "$key" > "$out/stamp"
  # libaom-sys copies the library into its rlib when it builds: make it take the new one.
  cargo clean --quiet --release --target wasm32-unknown-unknown -p libaom-sys
}
build_libaom

# Crates are compiled from this machine's cargo home, so their panic locations would name it
# (/root/.cargo/registry/src/...) in every shipped module: cut that prefix. (Cargo joins this
# array to the rustflags of .cargo/config.toml.)
remap=(--config "target.wasm32-unknown-unknown.rustflags=[\"--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src/=\"]")

say "wasm: mediaslim_probe (headers only)"
wasm-pack --quiet build --release --target web --no-pack --no-opt --out-dir pkg/wasm --out-name mediaslim_probe \
  -- --no-default-features "${remap[@]}" >/dev/null
optimize_wasm pkg/wasm/mediaslim_probe_bg.wasm -Oz
say "wasm: mediaslim_core (no AVIF, PNG output, scoring, GIF/BMP pixels, video)"
wasm-pack --quiet build --release --target web --no-pack --no-opt --out-dir pkg/wasm --out-name mediaslim_core \
  -- --no-default-features --features pixels "${remap[@]}" >/dev/null
optimize_wasm pkg/wasm/mediaslim_core_bg.wasm
say "wasm: mediaslim_plus (no AVIF encoder, video)"
wasm-pack --quiet build --release --target web --no-pack --no-opt --out-dir pkg/wasm --out-name mediaslim_plus \
  -- --no-default-features --features png-encode,score,gif-bmp,avif-container "${remap[@]}" >/dev/null
optimize_wasm pkg/wasm/mediaslim_plus_bg.wasm
say "wasm: mediaslim_full (everything)"
wasm-pack --quiet build --release --target web --no-pack --no-opt --out-dir pkg/wasm --out-name mediaslim_full -- "${remap[@]}" >/dev/null
optimize_wasm pkg/wasm/mediaslim_full_bg.wasm
rm -f pkg/wasm/.gitignore
# wasm-bindgen declares `[Symbol.dispose]()` on exported classes: a type that needs TypeScript's
# `esnext.disposable` lib, so apps type-checking with `lib: ["ES2022", "DOM"]` and skipLibCheck off
# would fail on our .d.ts. The method stays in the JS (where the runtime has Symbol.dispose).
sed -i '/\[Symbol\.dispose\]():/d' pkg/wasm/mediaslim_probe.d.ts pkg/wasm/mediaslim_core.d.ts pkg/wasm/mediaslim_plus.d.ts pkg/wasm/mediaslim_full.d.ts

say "TypeScript"
node_modules/.bin/tsc -p js/tsconfig.json
for m in probe core plus full; do
  w=pkg/wasm/mediaslim_${m}_bg.wasm
  say "$w: $(du -k "$w" | cut -f1) KB, $(gzip -9c "$w" | wc -c | awk '{printf "%d", $1/1024}') KB gzip"
done
