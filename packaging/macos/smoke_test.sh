#!/usr/bin/env bash
# Smoke test of a built or installed Factory Pulse on macOS: start the demo offscreen, wait for
# "main window ready" (the app then quits by itself), check where the database cluster went.
#
#   packaging/macos/smoke_test.sh "dist/Factory Pulse.app" ["$TMPDIR/Application Support/fp"]
#
# Without a data folder the real one is used: ~/Library/Application Support/factorypulse-desktop
# (a path with a space, which the embedded PostgreSQL must cope with).
set -euo pipefail

APP="${1:?usage: smoke_test.sh APP [DATA_DIR]}"
EXE="$APP/Contents/MacOS/factorypulse"
TIMEOUT="${SMOKE_TIMEOUT:-600}"
[[ -x "$EXE" ]] || { echo "no executable $EXE" >&2; exit 1; }

export QT_QPA_PLATFORM=offscreen
FACTORYPULSE_CONFIG_DIR="$(mktemp -d)/fp config"
export FACTORYPULSE_CONFIG_DIR
if [[ -n "${2:-}" ]]; then
    export FACTORYPULSE_DATA_DIR="$2"
    ROOT="$2"
else
    unset FACTORYPULSE_DATA_DIR
    ROOT="$HOME/Library/Application Support/factorypulse-desktop"
fi

# perl's alarm: a time limit without GNU coreutils' `timeout`.
limited() { perl -e 'alarm shift; exec @ARGV or die "exec: $!"' "$TIMEOUT" "$@"; }

limited "$EXE" --version | grep -E '^factorypulse [^ ]+'
OUT="$(limited "$EXE" --demo --smoke-test 2>&1)" || { echo "$OUT"; echo "--smoke-test failed" >&2; exit 1; }
echo "$OUT"
grep -q "main window ready" <<<"$OUT" || { echo 'no "main window ready" in the output' >&2; exit 1; }
[[ -f "$ROOT/embedded/demo/data/PG_VERSION" ]] \
    || { echo "the demo database was not created in $ROOT" >&2; exit 1; }
echo "Smoke test passed ($APP, data in $ROOT)"
