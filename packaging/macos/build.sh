#!/usr/bin/env bash
# Build the Factory Pulse disk image for macOS: icons, PyInstaller (.app), signing and
# notarization when credentials are set, dmgbuild.
#
#   packaging/macos/build.sh [--skip-deps]
#
# Run it in a Python 3.11 environment (a venv is best) on the architecture you want to ship:
# PyInstaller builds for the Python it runs in (arm64 on Apple silicon, x86_64 on Intel).
#
# Output: "dist/Factory Pulse.app" and dist/installers/FactoryPulse-<version>-macos-<arch>.dmg.
#
# Signing and notarization (docs/packaging.md) happen only when these are set:
#   FACTORYPULSE_CODESIGN_IDENTITY   "Developer ID Application: ..." (signs the app and the dmg)
#   FACTORYPULSE_NOTARY_PROFILE, or FACTORYPULSE_NOTARY_KEY + _KEY_ID + _ISSUER (notarizes)
set -euo pipefail

cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
BUNDLE_ID="com.factorypulse.desktop"  # packaging/factorypulse.spec, BUNDLE(bundle_identifier=)
APP="dist/Factory Pulse.app"
MACOS="packaging/macos"

die() { echo "build.sh: $*" >&2; exit 1; }

if [[ "${1:-}" != "--skip-deps" ]]; then
    "$PYTHON" -m pip install --upgrade pip
    "$PYTHON" -m pip install -e . "pyinstaller>=6.10" "dmgbuild>=1.6"
fi

VERSION="$("$PYTHON" -c 'import factorypulse_desktop; print(factorypulse_desktop.__version__)')"
ARCH="$("$PYTHON" -c 'import platform; print(platform.machine())')"
echo "Factory Pulse $VERSION for macOS $ARCH"

# 1. Icons (Qt renders them; no window needed) and the .app -------------------------------
QT_QPA_PLATFORM=offscreen "$PYTHON" packaging/make_icons.py
rm -rf "$APP"
"$PYTHON" -m PyInstaller --noconfirm --clean packaging/factorypulse.spec
[[ -x "$APP/Contents/MacOS/factorypulse" ]] || die "PyInstaller did not produce $APP"

# The Info.plist must name the bundle and this version (Finder, Gatekeeper, updates).
plist() { /usr/libexec/PlistBuddy -c "Print :$1" "$APP/Contents/Info.plist"; }
[[ "$(plist CFBundleIdentifier)" == "$BUNDLE_ID" ]] \
    || die "CFBundleIdentifier is $(plist CFBundleIdentifier), expected $BUNDLE_ID"
[[ "$(plist CFBundleShortVersionString)" == "$VERSION" ]] \
    || die "CFBundleShortVersionString is $(plist CFBundleShortVersionString), expected $VERSION"
plist CFBundleIconFile >/dev/null || die "Info.plist has no CFBundleIconFile"

# 2. Sign the app, and notarize + staple it so it also opens offline once copied -----------
SIGN=""
NOTARIZE=""
[[ -n "${FACTORYPULSE_CODESIGN_IDENTITY:-}" ]] && SIGN=1
[[ -n "${FACTORYPULSE_NOTARY_PROFILE:-}${FACTORYPULSE_NOTARY_KEY:-}" ]] && NOTARIZE=1
if [[ -n "$NOTARIZE" && -z "$SIGN" ]]; then
    die "notarization credentials are set but FACTORYPULSE_CODESIGN_IDENTITY is not"
fi
if [[ -n "$SIGN" ]]; then
    "$MACOS/sign_and_notarize.sh" sign-app "$APP"
    if [[ -n "$NOTARIZE" ]]; then
        "$MACOS/sign_and_notarize.sh" notarize "$APP"
    fi
else
    echo "FACTORYPULSE_CODESIGN_IDENTITY is not set: the app keeps PyInstaller's ad-hoc"
    echo "signature; Gatekeeper will refuse it on other Macs (fine for testing)."
fi

# 3. The disk image ------------------------------------------------------------------------
mkdir -p dist/installers
DMG="dist/installers/FactoryPulse-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
# dmgbuild's Python API (the same as `dmgbuild -s SETTINGS -D app=APP "Factory Pulse" DMG`),
# so that it runs from this Python even when its scripts folder is not on PATH.
"$PYTHON" -c 'import sys, dmgbuild
dmgbuild.build_dmg(sys.argv[1], "Factory Pulse", settings_file=sys.argv[2],
                   defines={"app": sys.argv[3]})' "$DMG" "$MACOS/dmg_settings.py" "$APP"
hdiutil verify "$DMG"
if [[ -n "$SIGN" ]]; then
    "$MACOS/sign_and_notarize.sh" sign-dmg "$DMG"
    if [[ -n "$NOTARIZE" ]]; then
        "$MACOS/sign_and_notarize.sh" notarize "$DMG"
    fi
fi
echo "Disk image: $DMG"
