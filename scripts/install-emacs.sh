#!/usr/bin/env bash
# Install Emacs (no X) and Debian's eglot for the plain-LSP test with eglot, when missing.
# Needs root for apt-get; without it, says what to install and exits 1.
set -euo pipefail
if command -v emacs >/dev/null && [[ -d /usr/share/emacs/site-lisp/elpa/eglot-1.9 ]] \
   || emacs --batch -Q --eval '(progn (package-initialize) (require (quote eglot)))' >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-emacs: run as root: apt-get install --no-install-recommends emacs-nox elpa-eglot" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null
