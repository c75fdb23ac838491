#!/usr/bin/env bash
# Builds the zip to upload to Gradescope: setup.sh, run_autograder, labs.conf, the example
# rubrics, and socklab built here with `cargo build --release`, so that Gradescope's image
# needs no Rust toolchain.
#
#   grading/gradescope/make_zip.sh [OUT.zip]      (default: ./socklab-gradescope.zip)
#
# TARGET=x86_64-unknown-linux-musl builds a static binary (after `rustup target add` of it),
# which runs whatever the glibc of Gradescope's image. SOCKLAB_BIN=path packs a binary
# built elsewhere instead.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(realpath -m "${1:-socklab-gradescope.zip}")"

if [[ -n "${SOCKLAB_BIN:-}" ]]; then
  bin="$SOCKLAB_BIN"
elif [[ -n "${TARGET:-}" ]]; then
  cargo build --release --manifest-path "$repo/Cargo.toml" --target "$TARGET"
  bin="$repo/target/$TARGET/release/socklab"
else
  cargo build --release --manifest-path "$repo/Cargo.toml"
  bin="$repo/target/release/socklab"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$here/setup.sh" "$here/run_autograder" "$here/labs.conf" "$stage/"
cp "$bin" "$stage/socklab"
cp -r "$repo/grading/rubrics" "$stage/rubrics"
chmod +x "$stage/setup.sh" "$stage/run_autograder" "$stage/socklab"
rm -f "$out"
# The files at the zip's root, as Gradescope wants them; python3's zipfile keeps run bits.
(cd "$stage" && python3 -m zipfile -c "$out" setup.sh run_autograder labs.conf socklab rubrics)
echo "wrote $out"
