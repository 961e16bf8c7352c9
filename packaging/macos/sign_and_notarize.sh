#!/usr/bin/env bash
# Sign, notarize and staple Factory Pulse for macOS (Developer ID distribution).
#
#   packaging/macos/sign_and_notarize.sh sign-app "dist/Factory Pulse.app"
#   packaging/macos/sign_and_notarize.sh notarize "dist/Factory Pulse.app"   # zip, submit, staple
#   packaging/macos/sign_and_notarize.sh sign-dmg dist/installers/FactoryPulse-X.Y.Z.dmg
#   packaging/macos/sign_and_notarize.sh notarize dist/installers/FactoryPulse-X.Y.Z.dmg
#
# Signing needs FACTORYPULSE_CODESIGN_IDENTITY, e.g. "Developer ID Application: Acme (TEAMID1234)",
# whose certificate and private key are in a keychain in the search list.
#
# Notarizing needs one of (docs/packaging.md):
#   FACTORYPULSE_NOTARY_PROFILE   a profile saved with `xcrun notarytool store-credentials`, or
#   FACTORYPULSE_NOTARY_KEY       path of an App Store Connect API key (AuthKey_XXXX.p8), with
#   FACTORYPULSE_NOTARY_KEY_ID    its key ID and
#   FACTORYPULSE_NOTARY_ISSUER    its issuer ID.
#
# Code is signed inside-out, every Mach-O file on its own, never with `codesign --deep` (it
# signs nested code the wrong way round and with the wrong options); the hardened runtime
# (--options runtime) and a secure time stamp (--timestamp) are what notarization requires.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ENTITLEMENTS="$HERE/entitlements.plist"

die() { echo "sign_and_notarize: $*" >&2; exit 1; }

identity() {
    [[ -n "${FACTORYPULSE_CODESIGN_IDENTITY:-}" ]] \
        || die "set FACTORYPULSE_CODESIGN_IDENTITY (a \"Developer ID Application: ...\" identity)"
    printf '%s' "$FACTORYPULSE_CODESIGN_IDENTITY"
}

# codesign with the options every piece needs; extra arguments go before the path.
sign() {
    local path="${*: -1}"
    local extra=("${@:1:$#-1}")
    # ${extra[@]+...}: macOS's bash 3.2 treats an empty array as unset under `set -u`.
    codesign --force --timestamp --options runtime --sign "$(identity)" \
        ${extra[@]+"${extra[@]}"} "$path"
}

# Sign one Mach-O file from a temporary copy: for binaries inside a folder that looks like a
# bundle but is not a well-formed one, where codesign refuses the file in place.
sign_copy() {
    local path="$1" tmp
    tmp="$(mktemp -d)"
    cp -p "$path" "$tmp/"
    sign "$tmp/$(basename "$path")"
    cp -p "$tmp/$(basename "$path")" "$path"
    rm -rf "$tmp"
}

# Sign a nested bundle; if codesign does not accept it as a bundle (PyInstaller can collect a
# .framework without its usual symlinks), sign every Mach-O file in it instead.
sign_bundle() {
    local dir="$1" path
    if sign "$dir"; then
        return 0
    fi
    echo "  $dir is not a well-formed bundle; signing its binaries one by one"
    while IFS= read -r path; do
        if is_macho "$path"; then sign_copy "$path"; fi
    done < <(find "$dir" -type f)
}

is_macho() { file -b "$1" | grep -q '^Mach-O'; }

# A .framework's main binary (X.framework/X or X.framework/Versions/V/X) is signed with its
# bundle; signing it alone makes codesign complain that the bundle format is ambiguous.
is_bundle_main_binary() {
    local path="$1" name dir
    name="$(basename "$path")"
    dir="$(dirname "$path")"
    [[ "$dir" == */"$name".framework ]] && return 0
    [[ "$dir" == */"$name".framework/Versions/* ]] && return 0
    return 1
}

# Print paths (one a line, deepest first) of what `find` selects under $1.
deepest_first() {
    local root="$1"; shift
    find "$root" "$@" -print | awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2-
}

sign_app() {
    local app="${1:?usage: sign-app APP}"
    identity >/dev/null  # stops here, not in a subshell, when no identity is set
    [[ -d "$app/Contents/MacOS" ]] || die "$app is not an application bundle"
    local main="$app/Contents/MacOS/factorypulse"
    [[ -f "$main" ]] || die "$main is missing"

    echo "Signing the Mach-O files inside $app (the PostgreSQL programs, .dylib and .so files)"
    local count=0 path
    while IFS= read -r path; do
        [[ "$path" == "$main" ]] && continue
        is_macho "$path" || continue
        is_bundle_main_binary "$path" && continue
        sign "$path"
        count=$((count + 1))
    done < <(deepest_first "$app/Contents" -type f)
    echo "  $count files signed"

    echo "Signing nested bundles (.framework, .bundle, .app)"
    while IFS= read -r path; do
        sign_bundle "$path"
    done < <(deepest_first "$app/Contents" -type d \
                 \( -name '*.framework' -o -name '*.bundle' -o -name '*.app' \))

    echo "Signing the application with its entitlements"
    sign --entitlements "$ENTITLEMENTS" "$app"

    codesign --verify --deep --strict --verbose=2 "$app"
    codesign --display --entitlements - "$app" >/dev/null
}

sign_dmg() {
    local dmg="${1:?usage: sign-dmg DMG}"
    identity >/dev/null
    # A disk image is signed as a whole; no hardened runtime option for it.
    codesign --force --timestamp --sign "$(identity)" "$dmg"
    codesign --verify --strict --verbose=2 "$dmg"
}

notary_auth() {
    if [[ -n "${FACTORYPULSE_NOTARY_PROFILE:-}" ]]; then
        printf '%s\0' --keychain-profile "$FACTORYPULSE_NOTARY_PROFILE"
    elif [[ -n "${FACTORYPULSE_NOTARY_KEY:-}" ]]; then
        [[ -f "$FACTORYPULSE_NOTARY_KEY" ]] || die "FACTORYPULSE_NOTARY_KEY: no file $FACTORYPULSE_NOTARY_KEY"
        [[ -n "${FACTORYPULSE_NOTARY_KEY_ID:-}" && -n "${FACTORYPULSE_NOTARY_ISSUER:-}" ]] \
            || die "FACTORYPULSE_NOTARY_KEY needs FACTORYPULSE_NOTARY_KEY_ID and FACTORYPULSE_NOTARY_ISSUER"
        printf '%s\0' --key "$FACTORYPULSE_NOTARY_KEY" --key-id "$FACTORYPULSE_NOTARY_KEY_ID" \
            --issuer "$FACTORYPULSE_NOTARY_ISSUER"
    else
        die "no notarization credentials: set FACTORYPULSE_NOTARY_PROFILE or FACTORYPULSE_NOTARY_KEY(+_ID, _ISSUER)"
    fi
}

# json_field NAME TEXT: NAME's value in the JSON object within TEXT (empty if none).
json_field() {
    printf '%s' "$2" | /usr/bin/python3 -c '
import json, sys
text = sys.stdin.read()
try:
    print(json.loads(text[text.index("{"):text.rindex("}") + 1]).get(sys.argv[1], ""))
except ValueError:
    print("")
' "$1"
}

notarize() {
    local target="${1:?usage: notarize APP|DMG}"
    local auth=()
    while IFS= read -r -d '' arg; do auth+=("$arg"); done < <(notary_auth)

    local upload="$target" tmpdir=""
    if [[ -d "$target" ]]; then
        # An .app is sent as a zip that keeps its symlinks and extended attributes.
        tmpdir="$(mktemp -d)"
        upload="$tmpdir/$(basename "$target" .app).zip"
        ditto -c -k --keepParent "$target" "$upload"
    fi

    echo "Submitting $target for notarization (waits for Apple's answer)"
    local result
    result="$(xcrun notarytool submit "$upload" "${auth[@]}" --wait --output-format json)" || true
    [[ -n "$tmpdir" ]] && rm -rf "$tmpdir"
    echo "$result"
    local status id
    status="$(json_field status "$result")"
    id="$(json_field id "$result")"
    if [[ "$status" != "Accepted" ]]; then
        [[ -n "$id" ]] && xcrun notarytool log "$id" "${auth[@]}" || true
        die "notarization of $target ended with status '${status:-unknown}'"
    fi

    xcrun stapler staple "$target"
    xcrun stapler validate "$target"
    if [[ -d "$target" ]]; then
        spctl --assess --type execute --verbose=2 "$target"
    else
        spctl --assess --type open --context context:primary-signature --verbose=2 "$target"
    fi
}

case "${1:-}" in
    sign-app) shift; sign_app "$@" ;;
    sign-dmg) shift; sign_dmg "$@" ;;
    notarize) shift; notarize "$@" ;;
    *) die "usage: $0 sign-app APP | sign-dmg DMG | notarize APP|DMG" ;;
esac
