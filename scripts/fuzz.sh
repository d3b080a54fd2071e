#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while: `npm run fuzz -- <target> [seconds] [libFuzzer flags...]`.
#   targets: probe (sniff + headers), decode (every decoder, 4 MP budget), pipeline (optimize
#   with fuzzed options), icc (colour profiles through qcms), remux (the MP4/MOV parser),
#   demux (the MP4/MOV and WebM demuxers: sample tables, fragments), gif_frames (animated GIF
#   frames composited for video encoders).
# Installs cargo-fuzz when missing, uses the nightly toolchain (sanitizers need it), seeds
# fuzz/corpus/<target> from tests/fixtures and ../shared/corpus (when present), and runs
# niced so a shared machine stays usable. Finds land in fuzz/artifacts/<target>/:
# minimize them with `cargo +nightly fuzz tmin <target> <file>` (from fuzz/.. i.e. the repo
# root) and commit the result under tests/fixtures/fuzz/ (tests/hostile.rs replays them).
# `bash scripts/fuzz.sh seed` only (re)builds the seed corpora.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

TARGETS="probe decode pipeline icc remux demux gif_frames"
target="${1:-}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : $# )) || true

usage() { echo "usage: npm run fuzz -- <$(echo $TARGETS | tr ' ' '|')|seed> [seconds] [libFuzzer flags]" >&2; exit 2; }
[ -n "$target" ] || usage

# Seeds: small files only (big photos make slow seeds), deduplicated by content.
seed() {
  local t="$1" dir="fuzz/corpus/$1" src
  mkdir -p "$dir"
  local sources=(tests/fixtures tests/fixtures/fuzz)
  for sub in formats formats/apng formats/avif malformed orientation photos video; do
    [ -d "../shared/corpus/$sub" ] && sources+=("../shared/corpus/$sub")
  done
  for src in "${sources[@]}"; do
    [ -d "$src" ] || continue
    find "$src" -maxdepth 1 -type f -size -256k ! -name '*.md' ! -name '*.mjs' ! -name 'LICENSE*' -print0 |
      while IFS= read -r -d '' f; do
        local name
        name=$(sha1sum "$f" | cut -c1-40)
        if [ "$t" = icc ]; then
          continue # raw profiles, extracted below
        elif [ "$t" = pipeline ]; then
          # The pipeline target reads a length byte and an options head first; a 0 length
          # means default options for the image that follows.
          { printf '\0'; cat "$f"; } > "$dir/$name"
        else
          cp -n "$f" "$dir/$name" 2>/dev/null || true
        fi
      done
    if [ "$t" = icc ]; then
      find "$src" -maxdepth 1 -type f -print0 | xargs -0 python3 fuzz/extract_icc.py "$dir" >/dev/null
    fi
  done
  echo "seeded $dir: $(ls "$dir" | wc -l) files"
}

if [ "$target" = seed ]; then
  for t in $TARGETS; do seed "$t"; done
  exit 0
fi
case " $TARGETS " in *" $target "*) ;; *) usage ;; esac

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (once)"
  cargo install cargo-fuzz --locked
fi

seed "$target"
mkdir -p "fuzz/artifacts/$target"
# Build, then run the binary itself: `cargo fuzz run` holds cargo's build lock for as long
# as the fuzzer runs, so two targets could not run side by side.
nice -n 15 cargo +nightly fuzz build --debug-assertions "$target"
# -rss_limit_mb: a decoder asking for more than this is an OOM find. -timeout: a hang.
exec nice -n 15 "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "fuzz/corpus/$target" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=1048576 \
  -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 "$@"
