"""dmgbuild settings for the Factory Pulse disk image.

    dmgbuild -s packaging/macos/dmg_settings.py -D app="dist/Factory Pulse.app" \\
        "Factory Pulse" dist/installers/FactoryPulse-X.Y.Z-macos-arm64.dmg

dmgbuild runs this file with a `defines` dictionary holding the -D values; paths are relative
to the current folder (packaging/macos/build.sh runs from the repository root). The window
shows the app and a link to /Applications: drag one onto the other to install.
"""

from __future__ import annotations

import os.path

_defines: dict[str, str] = globals().get("defines", {})

application = _defines.get("app", "dist/Factory Pulse.app")
appname = os.path.basename(application)

# ULFO (lzfse) is smaller and faster to open than UDZO (zlib); it needs macOS 10.11, and the
# app itself needs macOS 11. Pass -D format=UDZO for the most widely readable image.
format = _defines.get("format", "ULFO")
# None: dmgbuild measures the files and sizes the image itself.
size = _defines.get("size") or None

files = [application]
symlinks = {"Applications": "/Applications"}
# Hiding the ".app" extension writes Finder info onto the signed app, which breaks the strict
# signature check (codesign --verify --strict): leave the names as they are.
hide_extensions: list[str] = []

# The volume's icon in Finder: the app's icon, when it has been generated.
_icon = _defines.get("icon", "packaging/icons/factorypulse.icns")
if os.path.exists(_icon):
    icon = _icon

# An optional background picture (for example 640x400 px, the window's size) via -D background=...
background = _defines.get("background", "builtin-arrow")

window_rect = ((200, 120), (640, 400))
default_view = "icon-view"
show_status_bar = False
show_tab_view = False
show_toolbar = False
show_pathbar = False
show_sidebar = False
show_icon_preview = False
icon_size = 128
text_size = 14
arrange_by = None
# Centres of the icons, in window coordinates: the app on the left, Applications on the right.
icon_locations = {
    appname: (160, 190),
    "Applications": (480, 190),
}
