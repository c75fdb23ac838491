#!/usr/bin/env bash
# Builds the zip to upload to Gradescope: setup.sh, run_autograder, labs.conf, the example
# rubrics, and the portable socklab binary from grading/make_dist.sh (glibc 2.17 or newer,
# so any Gradescope image runs it, and no Rust toolchain is needed there).
#
#   grading/gradescope/make_zip.sh [OUT.zip]      (default: ./socklab-gradescope.zip)
#
# By default it runs make_dist.sh into target/dist (a few minutes). SOCKLAB_BIN=path packs
# a binary built elsewhere instead (e.g. the socklab of an earlier make_dist.sh OUTDIR).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(realpath -m "${1:-socklab-gradescope.zip}")"

if [[ -n "${SOCKLAB_BIN:-}" ]]; then
  bin="$SOCKLAB_BIN"
else
  "$repo/grading/make_dist.sh" "$repo/target/dist"
  bin="$repo/target/dist/socklab"
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
