#!/usr/bin/env bash
# Regenerate requirements.lock: exact versions, with hashes, of every package the book and the tests
# install (pyproject.toml's dependencies and its `test` extra, with all transitive dependencies),
# resolved by pip-tools for this Python (the committed lock: CPython 3.11, Linux x86-64).
# torch is pinned to TORCH_VERSION for the resolution but left out of the lock (listed in a comment):
# its build is platform-specific (the CPU build on this machine's disk, PyPI's CUDA build elsewhere),
# so `make install` installs it first from TORCH_SPEC. Usage: bash tools/lock.sh   (or: make lock)
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
PYTHON=${PYTHON:-python3}
venv=.venv-lock
test -x $venv/bin/pip-compile || { $PYTHON -m venv $venv && $venv/bin/pip install -q pip-tools; }
pin=$(mktemp) && trap 'rm -f $pin' EXIT
echo "torch==$TORCH_VERSION" > "$pin"
links=()
[ -d /opt/wheels ] && links=(--find-links /opt/wheels)  # this machine's CPU build of torch
$venv/bin/pip-compile -q --generate-hashes --extra test --strip-extras --no-emit-index-url --no-emit-find-links \
  --unsafe-package torch --unsafe-package icl-demystified --constraint "$pin" "${links[@]}" \
  --output-file requirements.lock pyproject.toml
# the header names the command that made the file, not the temporary constraint file's path
sed -i "s#--constraint=$pin#--constraint=<torch==$TORCH_VERSION>#; s#^\(\#   -c \)$pin#\1<torch==$TORCH_VERSION>#" requirements.lock
echo "requirements.lock: $(grep -c '^[A-Za-z0-9]' requirements.lock) packages pinned with hashes (torch==$TORCH_VERSION installed separately)"
