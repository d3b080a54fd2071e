#!/usr/bin/env bash
# One idempotent setup for `npm start` and `npm test`: installs only what is missing, so a
# warm machine finishes in seconds. As root it installs Debian packages; otherwise it names them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with Cargo.toml (wasm-bindgen is pinned with `=`).
WASM_BINDGEN_VERSION=0.2.130
WASM_PACK_VERSION=0.15.1
CARGO_DENY_VERSION=0.20.2
DEBIAN_PACKAGES=(curl clang lld llvm wasi-libc cmake chromium chromium-driver firefox-esr webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb ffmpeg)

say() { printf '[setup] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# 1. Debian packages: a C compiler that targets wasm32, and browsers (three engines) for the tests.
missing=()
command -v clang >/dev/null || missing+=(clang)
command -v wasm-ld >/dev/null || missing+=(lld)
command -v llvm-ar >/dev/null || missing+=(llvm)
[ -d /usr/include/wasm32-wasi ] || missing+=(wasi-libc)   # libc headers for libwebp in wasm
command -v cmake >/dev/null || missing+=(cmake)            # builds libaom for wasm32 (scripts/build.sh)
command -v curl >/dev/null || missing+=(curl)              # fetches libaom's sources (step 4)
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
# The other two browser engines of tests/package/engines.test.mjs (Gecko and WebKit).
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
compgen -G '/usr/lib/*/webkit2gtk-4.1/MiniBrowser' >/dev/null || missing+=(libwebkit2gtk-4.1-0)
command -v xvfb-run >/dev/null || missing+=(xvfb)
# ffprobe/ffmpeg judge the videos gifToVideo makes (tests/video_*.rs, node and browser suites).
command -v ffprobe >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them as root: apt-get install ${DEBIAN_PACKAGES[*]}"
    exit 1
  fi
fi

# 2. Rust: the wasm target and the exact wasm-bindgen CLI that matches Cargo.toml.
if ! command -v rustup >/dev/null; then
  say "rustup is missing: install Rust with rustup first"; exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: the CLI's own lockfile names a yanked crate version.
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi
# cargo-deny checks licences, banned/duplicate crates and sources in `npm test` (scripts/deny.sh).
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  say "installing cargo-deny $CARGO_DENY_VERSION (a few minutes, once)"
  cargo install -q cargo-deny --version "$CARGO_DENY_VERSION" --locked --force
fi

# 3. npm packages, exactly as locked. Re-run only when the lockfile changed.
stamp=node_modules/.mediaslim-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# 4. libaom's sources (BSD-2-Clause; version and hash in scripts/libaom.sh) for the wasm AVIF
# encoder: 3.12's `tune=iq` needs 8-21% fewer bytes than 3.11's tune=ssim at equal SSIMULACRA2.
# They come from the Debian archive this machine's apt already uses.
. scripts/libaom.sh
if [ ! -f "$AOM_SRC/aom/aomcx.h" ]; then
  # deb822 `URIs:` lines, then one-line `deb URL ...` entries; not the security archive.
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
         $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' | grep -v security | head -n 1 || true)
  if [ -z "$mirror" ]; then
    say "no Debian archive in this machine's apt sources: put libaom $AOM_VERSION's sources in $AOM_SRC"; exit 1
  fi
  say "fetching libaom $AOM_VERSION sources (once)"
  mkdir -p target
  tarball=target/aom_$AOM_VERSION.orig.tar.gz
  curl -fsSL --retry 3 -o "$tarball.part" "${mirror%/}/pool/main/a/aom/aom_$AOM_VERSION.orig.tar.gz"
  if [ "$(sha256sum "$tarball.part" | cut -d' ' -f1)" != "$AOM_SHA256" ]; then
    rm -f "$tarball.part"; say "libaom $AOM_VERSION sources: wrong SHA-256"; exit 1
  fi
  rm -rf "$AOM_SRC" "$AOM_SRC.part" && mkdir -p "$AOM_SRC.part"
  tar -xzf "$tarball.part" -C "$AOM_SRC.part" --strip-components=1
  mv "$AOM_SRC.part" "$AOM_SRC" && rm -f "$tarball.part"
fi
say "ready"
