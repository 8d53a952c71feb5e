#!/usr/bin/env bash
# Install the system packages oncall-tui needs, only those missing.
#   demo: Prometheus and Alertmanager (the real servers the demo starts)
#   test: the same, plus gnome-keyring and D-Bus (a real Secret Service for the keyring tests)
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
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
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
