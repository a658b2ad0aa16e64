#!/usr/bin/env bash
# Set perfrules up on a fresh Debian machine, then run the example or the tests.
#
#   ./run.sh example   set up, then run the main job on the bundled example
#   ./run.sh test      set up, then run the whole test suite (what CI runs)
#
# Setting up means: a Python >= 3.11 with venv (installed with apt-get when missing
# and we are root), the system packages listed below, and a virtual environment in
# .venv with perfrules installed in editable mode with its test extras.  It is
# repeatable: a second run reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages perfrules needs: WeasyPrint's Pango and HarfBuzz-Subset (fast font subsetting),
# fontconfig, and a CJK font so that Chinese prints as Chinese in the PDFs.
SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk)
VENV=.venv

say() { printf 'run.sh: %s\n' "$*" >&2; }

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        say "missing system packages: $*"
        say "install them as root: apt-get install -y $*"
        exit 1
    fi
    say "installing system packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_system() {
    local missing=()
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ! find_python >/dev/null; then
        missing+=(python3 python3-venv)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    PYTHON=$(find_python) || { say "no Python 3.11 or newer found"; exit 1; }
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $PYTHON"
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            local version
            version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
            apt_install "python${version}-venv"
            "$PYTHON" -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.perfrules-installed"
    local wanted
    wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        say "installing perfrules and its dependencies into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
        echo "$wanted" >"$stamp"
    fi
}

main() {
    local job=${1:-}
    case "$job" in
        example | test) ;;
        *)
            say "usage: ./run.sh example | test"
            exit 2
            ;;
    esac
    ensure_system
    ensure_venv
    if [ "$job" = example ]; then
        local perfrules="$VENV/bin/perfrules"
        mkdir -p out
        say "perfrules check policies/"
        "$perfrules" check policies/
        say "perfrules evaluate policies/ examples/agents.csv --format table"
        "$perfrules" evaluate policies/ examples/agents.csv --format table
        say "perfrules evaluate policies/ examples/agents.csv -o out/results.json (and .csv, .xlsx)"
        "$perfrules" evaluate policies/ examples/agents.csv -o out/results.json
        "$perfrules" evaluate policies/ examples/agents.csv -o out/results.csv
        "$perfrules" evaluate policies/ examples/agents.csv -o out/results.xlsx
        say "perfrules explain policies/ examples/agents.csv --agent A030"
        "$perfrules" explain policies/ examples/agents.csv --agent A030
        say "perfrules explain policies/ examples/agents.csv --agent V02 (a VIP supervisor: vip_supervisor.perf extends supervisor.perf)"
        "$perfrules" explain policies/ examples/agents.csv --agent V02
        say "perfrules test policies/ --coverage (the policies' own tests, policies/*.test.perf)"
        "$perfrules" test policies/ --coverage
        say "perfrules report policies/ examples/agents.csv --notes examples/notes.csv -o out/packets (and examples/cx_team.csv in English)"
        "$perfrules" report policies/ examples/agents.csv --notes examples/notes.csv -o out/packets
        "$perfrules" report policies/ examples/cx_team.csv -o out/packets-en
        say "perfrules metrics examples/metrics/bank_calls.perfm -o out/bank_calls_snapshot.csv (raw calls to the snapshot)"
        "$perfrules" metrics examples/metrics/bank_calls.perfm -o out/bank_calls_snapshot.csv
        say "perfrules report examples/metrics/bank_calls.perf examples/metrics/bank_calls.perfm -o out/packets-bank (raw calls to packets)"
        "$perfrules" report examples/metrics/bank_calls.perf examples/metrics/bank_calls.perfm -o out/packets-bank
        say "perfrules explain examples/metrics/servicenow.perf examples/metrics/servicenow.perfm --period 2016-04 --agent 'Resolver 17'"
        "$perfrules" explain examples/metrics/servicenow.perf examples/metrics/servicenow.perfm --period 2016-04 --agent 'Resolver 17'
        say "perfrules report examples/metrics/servicenow.perf examples/metrics/servicenow.perfm --period 2016-04 --agent 'Resolver 17' -o out/packets-servicenow"
        "$perfrules" report examples/metrics/servicenow.perf examples/metrics/servicenow.perfm --period 2016-04 \
            --agent 'Resolver 17' --agent 'Resolver 106' -o out/packets-servicenow
        say "done: see out/results.json, out/results.csv, out/results.xlsx, out/packets/ and out/packets-en/"
    else
        "$VENV/bin/python" -m pytest "${@:2}"
    fi
}

main "$@"
