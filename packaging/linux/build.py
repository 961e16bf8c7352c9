"""Build the Linux bundle: PyInstaller one-folder + desktop entry + icon, as a tar.gz.

    python packaging/linux/build.py [--out dist/linux] [--work build/linux]

Run it with the Python that has the app's dependencies and PyInstaller (`pip install -e
".[test]"`). The archive unpacks to `factorypulse/`; `factorypulse/factorypulse` is the app
and the CLI. Prints the unpacked size (budget: 250 MB) and the archive's.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "factorypulse.spec"
ICONS = ROOT / "packaging" / "icons"
APP = "factorypulse"
SIZE_BUDGET = 250 * 1000 * 1000

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Name=Factory Pulse
GenericName=Job shop projects
Comment=Customer projects of a job shop from intake to delivery
Exec={exec_} %U
Icon={icon}
Terminal=false
Categories=Office;
StartupNotify=true
StartupWMClass=factorypulse-desktop
"""
# StartupWMClass: Qt's X11 window class is QCoreApplication.applicationName() (ui/app.py).

INSTALL_SCRIPT = """\
#!/bin/sh
# Add Factory Pulse to this user's application menu (the bundle stays where it is).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$apps" "$icons"
cp "$here/factorypulse.png" "$icons/factorypulse.png"
sed "s|^Exec=.*|Exec=\\"$here/factorypulse\\" %U|" "$here/factorypulse.desktop" \\
    > "$apps/factorypulse.desktop"
echo "Added $apps/factorypulse.desktop"
"""


@dataclass(frozen=True)
class BuildResult:
    bundle: Path
    archive: Path
    version: str
    unpacked_bytes: int
    archive_bytes: int
    seconds: float


def version() -> str:
    """factorypulse_desktop.__version__ of the sources being packaged (not the installed)."""
    tree = ast.parse((ROOT / "factorypulse_desktop" / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise SystemExit("factorypulse_desktop.__version__ not found")


def tree_size(folder: Path) -> int:
    """Bytes of the regular files under `folder` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def run_pyinstaller(dist: Path, work: Path, python: str = sys.executable) -> Path:
    """PyInstaller on the spec, from the repository root (so these sources are frozen)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(
        [python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        cwd=ROOT, env=env, check=True,
    )
    bundle = dist / APP
    if not (bundle / APP).is_file():
        raise SystemExit(f"PyInstaller did not produce {bundle / APP}")
    return bundle


def add_desktop_files(bundle: Path) -> None:
    icon = ICONS / f"{APP}.png"
    if not icon.is_file():
        subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py")], check=True)
    shutil.copy2(icon, bundle / f"{APP}.png")
    # Exec/Icon by name: right once the folder is on PATH and the icon installed, which is
    # what install-desktop-entry.sh does (with the bundle's absolute path).
    (bundle / f"{APP}.desktop").write_text(DESKTOP_ENTRY.format(exec_=APP, icon=APP))
    script = bundle / "install-desktop-entry.sh"
    script.write_text(INSTALL_SCRIPT)
    script.chmod(0o755)


def make_archive(bundle: Path, out: Path, ver: str) -> Path:
    archive = out / f"{APP}-{ver}-linux-x86_64.tar.gz"
    tmp = archive.with_name(archive.name + ".tmp")
    # Level 6: nearly the size of 9 in a fraction of the time (Qt libraries compress badly).
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=APP)
    tmp.replace(archive)
    return archive


def build(out: Path, work: Path | None = None) -> BuildResult:
    start = time.perf_counter()
    out = out.absolute()
    work = (work or out / "work").absolute()
    ver = version()
    dist = out / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    bundle = run_pyinstaller(dist, work)
    add_desktop_files(bundle)
    archive = make_archive(bundle, out, ver)
    return BuildResult(bundle, archive, ver, tree_size(bundle), archive.stat().st_size,
                       time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "linux",
                        help="folder for the archive (and dist/ with the unpacked bundle)")
    parser.add_argument("--work", type=Path, help="PyInstaller's work folder (default OUT/work)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        raise SystemExit("this builds the Linux bundle; run it on Linux")
    result = build(args.out, args.work)
    mb = 1000 * 1000
    print(f"bundle:   {result.bundle}")
    print(f"archive:  {result.archive}")
    print(f"unpacked: {result.unpacked_bytes / mb:.1f} MB (budget {SIZE_BUDGET / mb:.0f} MB)")
    print(f"tar.gz:   {result.archive_bytes / mb:.1f} MB")
    print(f"built in  {result.seconds:.0f} s")
    return 0 if result.unpacked_bytes <= SIZE_BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
