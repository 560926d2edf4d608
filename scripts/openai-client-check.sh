#!/usr/bin/env bash
# Runs scripts/openai-client-check.py (the official `openai` Python package against the
# gateway's /v1 API) in a venv at ${CLAWGATE_PY_VENV:-.build/py-openai-venv}, created on first
# use. Needs CLAWGATE_BASE_URL and CLAWGATE_TOKEN; the script's exit code passes through.
set -euo pipefail

script="${BASH_SOURCE[0]}"
[[ "$script" == */* ]] || script="./$script"
here="$(cd "${script%/*}" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${CLAWGATE_PY_VENV:-$root/.build/py-openai-venv}"

if ! command -v python3 >/dev/null 2>&1; then
    echo "openai-client-check: python3 not found (install python3 and python3-venv)" >&2
    exit 3
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv"; then
        echo "openai-client-check: 'python3 -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
        exit 3
    fi
fi

if ! "$venv/bin/python" -c "import openai" >/dev/null 2>&1; then
    start=$(date +%s)
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check openai; then
        echo "openai-client-check: pip install openai failed" >&2
        exit 3
    fi
    echo "openai-client-check: installed openai in $venv in $(( $(date +%s) - start ))s"
fi

exec "$venv/bin/python" "$here/openai-client-check.py"
