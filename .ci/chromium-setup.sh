#!/usr/bin/env bash
# Make Debian's headless-capable Chromium available for the HTML report tests
# (tests/test_report_browser.py opens a real report in it over the DevTools protocol).
# Safe to run again: it does nothing when chromium is already installed.
#
# When chromium cannot be installed (no apt, no network), it says so and exits 0: the browser
# tests then skip with that reason. When it is installed but cannot start, it exits 1.
set -u -o pipefail

say() { printf '[chromium-setup] %s\n' "$*"; }

find_chromium() { command -v chromium || command -v chromium-browser || true; }

browser="$(find_chromium)"
if [ -z "$browser" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "NOTICE: no chromium and no apt-get; the browser tests will be SKIPPED."
        exit 0
    fi
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo_cmd=(sudo -n)
        else
            say "NOTICE: not root and no sudo; the browser tests will be SKIPPED."
            exit 0
        fi
    fi
    say "installing chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo_cmd[@]}" apt-get update -qq ||
        ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; then
        say "NOTICE: apt-get could not install chromium; the browser tests will be SKIPPED."
        exit 0
    fi
    browser="$(find_chromium)"
    if [ -z "$browser" ]; then
        say "NOTICE: chromium is still not on PATH; the browser tests will be SKIPPED."
        exit 0
    fi
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --dump-dom 'data:text/html,<p id=ok>ok</p>' 2>/dev/null |
    grep -q 'id="ok"'; then
    say "ERROR: $browser is installed but cannot render a page headless."
    exit 1
fi
say "ok: $("$browser" --version 2>/dev/null | head -1)"
