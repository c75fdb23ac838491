#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
# socklab itself comes prebuilt in the zip (make_zip.sh), so no Rust toolchain is needed:
# only what students' programs run with.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 gcc libc6-dev netcat-openbsd
chmod +x /autograder/source/socklab /autograder/source/run_autograder
