#!/usr/bin/env bash
# Tools the test suite uses that npm does not provide: `script` (util-linux, Debian package
# bsdutils) runs dl under a pseudo-terminal; a C compiler, make and python3 build the native body
# pump (native/, built by npm ci), whose tests are skipped without it. Installs only what is missing.
set -euo pipefail
missing=()
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi
