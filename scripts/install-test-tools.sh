#!/usr/bin/env bash
# Tools the test suite uses that npm does not provide: `script` (util-linux, Debian package
# bsdutils) runs dl under a pseudo-terminal. Installs only what is missing.
set -euo pipefail
missing=()
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi
