#!/usr/bin/env bash
# Install the system packages oncall-tui needs, only those missing.
#   demo: Prometheus and Alertmanager (the real servers the demo starts)
#   test: the same, plus gnome-keyring and D-Bus (a real Secret Service for the keyring tests),
#         tmux, and VictoriaMetrics with vmalert (the engine tests)
set -euo pipefail
want=${1:-demo}

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have prometheus || missing+=(prometheus)
have prometheus-alertmanager || have alertmanager || missing+=(prometheus-alertmanager)
if [ "$want" = test ]; then
    have gnome-keyring-daemon || missing+=(gnome-keyring)
    have dbus-daemon || missing+=(dbus)
    have dbus-launch || missing+=(dbus-x11)
    # tests/test_installed.py runs the installed app in a real terminal.
    have tmux || missing+=(tmux)
    # tests/integration/test_victoria.py runs VictoriaMetrics and vmalert for real.
    { have victoria-metrics && have vmalert; } || missing+=(victoria-metrics)
fi
# Python 3.11 or newer, able to make a venv (Debian splits ensurepip into python3-venv).
python=""
for candidate in python3 python3.13 python3.12 python3.11; do
    if have "$candidate" && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    missing+=(python3.11 python3.11-venv)
elif [ ! -x .venv/bin/python ]; then
    probe=$(mktemp -d)
    if ! "$python" -m venv "$probe/venv" >/dev/null 2>&1; then
        version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        missing+=("python$version-venv")
    fi
    rm -rf "$probe"
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! have apt-get; then
    echo "Missing: ${missing[*]}." >&2
    echo "On macOS: brew install prometheus alertmanager" >&2
    echo "Elsewhere: install Prometheus and Alertmanager with your package manager, or put" >&2
    echo "their binaries on PATH (ONCALL_TUI_PROMETHEUS_BIN / ONCALL_TUI_ALERTMANAGER_BIN)." >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then sudo=(sudo); else
        echo "Missing: ${missing[*]}. Run as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
echo "Installing system packages: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
