#!/usr/bin/env bash
# Idempotent developer/CI setup for juki.
#
#   * installs uv (pinned) when it is missing,
#   * installs the Debian packages the project needs when they are missing,
#   * syncs the locked virtualenv (.venv) with `uv sync --frozen`.
#
# Fast when everything is already in place. Safe to run repeatedly.
set -euo pipefail

UV_VERSION="0.13.9"
PG_BINDIR="/usr/lib/postgresql/15/bin"

# Debian packages the project needs. Later additions (fonts, chromium, ...) go here.
APT_PACKAGES=(
    postgresql-15
    fonts-ipamj-mincho
    fonts-ipaexfont-gothic
    chromium
    softhsm2
    libzbar0          # QR decoding in the certificate tests (pyzbar)
)

log() { printf '[setup] %s\n' "$*"; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

did_something=0

# --- uv ---------------------------------------------------------------------
UV=()
find_uv() {
    UV=()
    # `command -v` may find a pyenv shim that is not backed by a real binary,
    # so check that it actually runs.
    if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
        UV=(uv)
    elif python3 -m uv --version >/dev/null 2>&1; then
        UV=(python3 -m uv)
    fi
}

find_uv
if [[ ${#UV[@]} -eq 0 ]]; then
    log "installing uv==${UV_VERSION}"
    python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1 || true
    find_uv
    if [[ ${#UV[@]} -eq 0 ]]; then
        log "ERROR: uv was installed but cannot be found (tried 'uv' and 'python3 -m uv')" >&2
        exit 1
    fi
    did_something=1
fi

# --- Debian packages -----------------------------------------------------------
pkg_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

pkg_needed() {
    case "$1" in
        # The server binaries are what we need; accept them however they got there.
        postgresql-15) [[ ! -x "${PG_BINDIR}/initdb" ]] && ! pkg_installed "$1" ;;
        *) ! pkg_installed "$1" ;;
    esac
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${APT_PACKAGES[@]}"; do
        if pkg_needed "$pkg"; then
            missing+=("$pkg")
        fi
    done
else
    log "dpkg-query not found (not Debian?); skipping system package check"
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -eq 0 ]]; then
        log "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
        did_something=1
    else
        log "missing Debian packages (not root, not installing): ${missing[*]}"
        log "  run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
fi

# --- Python environment --------------------------------------------------------
# `uv sync --frozen` is a quick no-op when .venv already matches uv.lock; keep
# it quiet in that case.
# --compile-bytecode: these machines set PYTHONDONTWRITEBYTECODE, so without .pyc files every
# process (each command, node and test subprocess) compiles ~475 modules from source at start.
sync_out="$("${UV[@]}" sync --frozen --compile-bytecode 2>&1)" || {
    printf '%s\n' "$sync_out" >&2
    log "ERROR: uv sync --frozen failed" >&2
    exit 1
}
if grep -qE '^\s*(Installed|Uninstalled|Creating virtual environment)' <<<"$sync_out"; then
    log "synced .venv with uv.lock"
    did_something=1
fi

# juki's own modules are installed editable, so uv does not compile them: do it here (fast
# when nothing changed; Python checks each .pyc against its source).
"$ROOT/.venv/bin/python" -m compileall -q -j 0 "$ROOT/src" >/dev/null

if [[ $did_something -eq 0 ]]; then
    log "nothing to do"
else
    log "done"
fi
