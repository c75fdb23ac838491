#!/usr/bin/env bash
# Builds socklab's release artifacts into OUTDIR, for machines without Rust:
#
#   grading/make_dist.sh OUTDIR
#
#   OUTDIR/socklab-VERSION-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       what students and graders install: pip install socklab-*.whl
#   OUTDIR/socklab
#       the same binary on its own (the one inside the wheel), for the Gradescope zip
#       (grading/gradescope/make_zip.sh packs it) or to copy onto a lab machine.
#
# Both run on any x86_64 Linux with glibc 2.17 or newer (CentOS 7, Ubuntu 14.04 on): zig
# links the binary against glibc 2.17's symbols (maturin --zig). The script checks that
# with auditwheel and objdump, and fails if the binary needs a newer glibc.
#
# It takes a few minutes: the tools (maturin, ziglang, auditwheel, from PyPI) go into a
# venv of their own, target/dist-tools, and the build into target/dist-build, apart from
# the development build. Needs python3 (with venv), cargo and objdump (binutils).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: grading/make_dist.sh OUTDIR" >&2
  exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "$1")"
tools="$repo/target/dist-tools"
target=x86_64-unknown-linux-gnu
floor=2.17
started=$SECONDS

for tool in python3 cargo objdump; do
  command -v "$tool" >/dev/null || { echo "make_dist.sh: $tool not found (objdump is in binutils)" >&2; exit 2; }
done
if [[ ! -x "$tools/bin/maturin" ]]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet "maturin==1.16.0" "ziglang==0.15.2" "auditwheel==6.8.2"
fi
# maturin finds zig as `python3 -m ziglang`: the venv's python3 must come first.
export PATH="$tools/bin:$PATH"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

mkdir -p "$out"
rm -f "$out"/socklab-*.whl "$out/socklab"
CARGO_TARGET_DIR="$repo/target/dist-build" maturin build --release --strip --zig \
  --compatibility manylinux2014 --target "$target" \
  --manifest-path "$repo/Cargo.toml" --out "$out"
wheel="$(ls "$out"/socklab-*.whl)"

# The binary on its own is the very one in the wheel.
python3 - "$wheel" "$out/socklab" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    (name,) = [n for n in z.namelist() if n.endswith(".data/scripts/socklab")]
    with open(dest, "wb") as f:
        f.write(z.read(name))
os.chmod(dest, 0o755)
PY

echo "== auditwheel show"
auditwheel show "$wheel"
# The newest glibc symbol version the binary asks for; none at all if it is static.
newest="$(objdump -T "$out/socklab" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
if [[ -n "$newest" && "$(printf '%s\n%s\n' "$newest" "$floor" | sort -V | tail -n 1)" != "$floor" ]]; then
  echo "make_dist.sh: $out/socklab needs GLIBC_$newest, newer than $floor" >&2
  exit 1
fi
echo "== built in $((SECONDS - started)) s"
echo "wheel:  $wheel"
echo "binary: $out/socklab (newest glibc symbol: GLIBC_${newest:-none, static})"
