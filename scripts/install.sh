#!/usr/bin/env bash
# Installs what firebrick needs on a fresh Debian/Ubuntu machine with Python 3.11+:
# system packages through apt (qemu-img, QEMU and the guest's kernel and busybox), and a
# virtual environment at .venv.
# Usage: scripts/install.sh [--test]   (--test adds the test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

missing=()
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=("python3-venv")
fi
# The hypervisor: QEMU, and what the guest is built from (a Debian cloud kernel and a static busybox).
for pkg in qemu-system-x86 qemu-system-common busybox-static linux-image-cloud-amd64 cpio; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing system packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "firebrick needs Python 3.11 or newer ($python is $("$python" --version))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$want_test" = 1 ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
