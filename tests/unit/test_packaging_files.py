"""The Windows and macOS packaging files agree with the app and with each other.

They cannot run here (no Windows, no macOS; PyInstaller does not cross-compile), so these
tests check what can be checked without running them: the installer's per-user install and
its uninstall question, the data folder and bundle layout they rely on, the entitlements
against their documentation, the disk image settings, and the CI workflow's jobs.
"""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from factorypulse_desktop.runtime import pgbinaries
from factorypulse_desktop.runtime.paths import APP_NAME

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ISS = PACKAGING / "windows" / "factorypulse.iss"
BUILD_PS1 = PACKAGING / "windows" / "build.ps1"
SMOKE_PS1 = PACKAGING / "windows" / "smoke_test.ps1"
MACOS = PACKAGING / "macos"
WORKFLOW = ROOT / ".github" / "workflows" / "installers.yml"
PACKAGING_DOC = ROOT / "docs" / "packaging.md"
INSTALLING_DOC = ROOT / "docs" / "installing.md"


# --- Inno Setup ---------------------------------------------------------------------------

def _iss_sections() -> dict[str, list[str]]:
    """Lines of each [Section] of the .iss (comments and blank lines dropped)."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for raw in ISS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        match = re.fullmatch(r"\[(\w+)\]", line)
        if match:
            current = match.group(1)
            sections.setdefault(current, [])
        elif line and not line.startswith(";"):
            sections[current].append(line)
    return sections


def _iss_defines() -> dict[str, str]:
    return dict(re.findall(r'^\s*#define\s+(\w+)\s+"([^"]*)"', ISS.read_text("utf-8"), re.M))


def _setup_directives() -> dict[str, str]:
    directives = {}
    for line in _iss_sections()["Setup"]:
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            directives[key.strip()] = value.strip()
    return directives


def _entry(line: str) -> dict[str, str]:
    """The parameters of one [Files]/[Icons]/... entry: `Name: "x"; Flags: a b`."""
    params = {}
    for part in re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line):
        key, value = part
        params[key] = value.strip().strip('"')
    return params


def test_the_installer_installs_per_user_without_admin_rights():
    setup = _setup_directives()
    assert setup["PrivilegesRequired"] == "lowest"
    # With lowest privileges {autopf} is %LOCALAPPDATA%\Programs.
    assert setup["DefaultDirName"].startswith("{autopf}\\")
    # A fixed GUID (written with the doubled brace Inno Setup needs), never a generated one.
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["OutputBaseFilename"] == "FactoryPulse-{#AppVersion}-setup"


def test_the_version_must_be_given_on_the_command_line():
    text = ISS.read_text("utf-8")
    assert re.search(r"#ifndef AppVersion\s+#error", text), "a build without /DAppVersion must fail"
    ps1 = BUILD_PS1.read_text("utf-8")
    assert '"/DAppVersion=$Version"' in ps1
    assert "factorypulse_desktop.__version__" in ps1


def test_the_whole_one_folder_bundle_is_installed():
    defines = _iss_defines()
    dist = (ISS.parent / defines["DistDir"].replace("\\", "/")).resolve()
    assert dist == (ROOT / "dist" / "factorypulse").resolve()
    files = [_entry(line) for line in _iss_sections()["Files"]]
    assert len(files) == 1
    assert files[0]["Source"] == "{#DistDir}\\*"
    assert files[0]["DestDir"] == "{app}"
    assert {"recursesubdirs", "createallsubdirs"} <= set(files[0]["Flags"].split())


def test_start_menu_entries_open_the_app():
    defines = _iss_defines()
    assert defines["AppExeName"] == "factorypulse.exe"
    icons = [_entry(line) for line in _iss_sections()["Icons"]]
    start_menu = [i for i in icons if i["Name"].startswith("{autoprograms}\\")]
    assert start_menu, "no Start menu entry"
    assert all(i["Filename"] == "{app}\\{#AppExeName}" for i in icons)
    assert any(i.get("Parameters") == "--demo" for i in start_menu)
    # The desktop icon only when the user ticks the (unchecked) task.
    desktop = [i for i in icons if i["Name"].startswith("{autodesktop}")]
    tasks = {t["Name"]: t for t in map(_entry, _iss_sections()["Tasks"])}
    assert desktop and all(i["Tasks"] in tasks for i in desktop)
    assert all("unchecked" in tasks[i["Tasks"]]["Flags"] for i in desktop)


def test_the_uninstaller_keeps_the_data_unless_the_user_says_yes():
    code = "\n".join(_iss_sections()["Code"])
    # The folder it offers to delete is the app's data folder (runtime/paths.py).
    assert _iss_defines()["DataFolderName"] == APP_NAME
    assert "ExpandConstant('{localappdata}\\{#DataFolderName}')" in code
    question = code[code.index("procedure CurUninstallStepChanged"):]
    # Never asked in a silent uninstall (the data stays); otherwise No is the default button
    # (and the answer when message boxes are suppressed).
    asked = re.search(r"if UninstallSilent\(\) then\s+Log\([^;]*\)\s+else if [^;]*"
                      r"DeleteUserData := SuppressibleMsgBox\((.*?)\) = IDYES;", question, re.S)
    assert asked, "the question is not guarded by UninstallSilent()"
    assert asked.group(1).rstrip().endswith("MB_YESNO or MB_DEFBUTTON2, IDNO")
    # Deleting happens only after the uninstall and only on that Yes.
    post = question[question.index("usPostUninstall"):]
    assert "DeleteUserData" in post.splitlines()[0]
    assert "DelTree(UserDataDir()" in post
    assert code.count("DelTree(") == 2  # the data folder, and the config folder if different
    # Nothing deletes the data folder behind the user's back.
    assert "[UninstallDelete]" not in ISS.read_text("utf-8")


def test_the_uninstaller_stops_servers_with_the_bundled_pg_ctl():
    code = "\n".join(_iss_sections()["Code"])
    match = re.search(r"ExpandConstant\('\{app\}\\_internal\\([^']+)\\pg_ctl\.exe'\)", code)
    assert match, "pg_ctl.exe path not found"
    # The same layout the app looks for inside a bundle (runtime/pgbinaries.py).
    assert match.group(1).split("\\") == [pgbinaries.WHEEL_PACKAGE, "pginstall", "bin"]
    assert "-m fast" in code
    # Before the files go (usUninstall), not after (usPostUninstall).
    steps = code[code.index("procedure CurUninstallStepChanged"):]
    assert steps.index("StopEmbeddedServers()") < steps.index("usPostUninstall")


def test_signing_uses_one_named_sign_tool():
    text = ISS.read_text("utf-8")
    block = re.search(r"#ifdef Sign\n(.*?)#endif", text, re.S)
    assert block
    assert "SignTool=fpsign" in block.group(1)
    assert "SignedUninstaller=yes" in block.group(1)
    ps1 = BUILD_PS1.read_text("utf-8")
    assert "'/DSign'" in ps1 and "'/Sfpsign=" in ps1
    # Inno Setup's placeholder for the file to sign, kept literal (single quotes) in PowerShell.
    assert "' $f'" in ps1


# --- macOS --------------------------------------------------------------------------------

def test_entitlements_are_valid_and_each_is_explained():
    entitlements = plistlib.loads((MACOS / "entitlements.plist").read_bytes())
    assert entitlements, "no entitlements at all"
    assert all(value is True for value in entitlements.values())
    doc = PACKAGING_DOC.read_text("utf-8")
    for key in entitlements:
        assert re.search(rf"\| `{re.escape(key)}` \| yes \|", doc), f"{key} not explained"
    # What the documentation says is not granted is not in the file.
    refused = re.findall(r"\| `(com\.apple\.security\.[\w.-]+)` \| no \|", doc)
    assert refused and not set(refused) & set(entitlements)


def _dmg_settings(**defines: str) -> dict[str, object]:
    """dmg_settings.py run the way dmgbuild runs it (exec with a `defines` dictionary)."""
    path = MACOS / "dmg_settings.py"
    namespace: dict[str, object] = {"defines": defines}
    exec(compile(path.read_text("utf-8"), str(path), "exec"), namespace)
    return namespace


def test_the_disk_image_holds_the_app_and_a_link_to_applications():
    build_sh = (MACOS / "build.sh").read_text("utf-8")
    app = re.search(r'^APP="([^"]+)"', build_sh, re.M)
    assert app
    settings = _dmg_settings(app=app.group(1))
    assert settings["files"] == [app.group(1)]
    assert settings["symlinks"] == {"Applications": "/Applications"}
    assert settings["format"] in {"UDZO", "ULFO", "ULMO", "UDBZ"}  # compressed, read-only
    # Every item in the window has a place, and nothing else does.
    locations = settings["icon_locations"]
    assert isinstance(locations, dict)
    assert set(locations) == {"Factory Pulse.app", "Applications"}
    # Hiding ".app" would write Finder info onto the signed app (strict verify fails).
    assert settings["hide_extensions"] == []
    assert _dmg_settings(format="UDZO")["format"] == "UDZO"
    # The default, without -D app=..., is the app the build makes.
    assert _dmg_settings()["files"] == [app.group(1)]


def test_the_macos_build_checks_the_bundle_id_and_version():
    build_sh = (MACOS / "build.sh").read_text("utf-8")
    assert re.search(r'^BUNDLE_ID="com\.factorypulse\.desktop"', build_sh, re.M)
    assert "CFBundleShortVersionString" in build_sh and "CFBundleIdentifier" in build_sh


def test_signing_is_inside_out_with_hardened_runtime():
    script = (MACOS / "sign_and_notarize.sh").read_text("utf-8")
    sign_lines = [line for line in script.splitlines()
                  if line.strip().startswith("codesign --force")]
    assert sign_lines and all("--timestamp" in line for line in sign_lines)
    assert "--options runtime" in script
    assert not re.search(r"codesign[^\n]*--deep[^\n]*--sign", script), "no signing with --deep"
    sign_app = script[script.index("sign_app() {"):script.index("sign_dmg() {")]
    # Nested code first, the app (with its entitlements) last.
    assert sign_app.index("deepest_first") < sign_app.index('--entitlements "$ENTITLEMENTS" "$app"')
    assert "notarytool submit" in script and "--wait" in script
    assert "stapler staple" in script and "spctl --assess" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("name", ["build.sh", "sign_and_notarize.sh", "smoke_test.sh"])
def test_shell_scripts_parse_and_are_executable(name):
    script = MACOS / name
    assert script.stat().st_mode & 0o111, f"{name} is not executable"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- the CI workflow ----------------------------------------------------------------------

def _workflow_jobs() -> dict[str, str]:
    """Each job's text, by job name (the workflow's top-level `jobs:` mapping)."""
    text = WORKFLOW.read_text("utf-8")
    body = text[text.index("\njobs:\n") + len("\njobs:\n"):]
    jobs: dict[str, str] = {}
    name = None
    for line in body.splitlines():
        match = re.fullmatch(r"  ([\w-]+):", line)
        if match:
            name = match.group(1)
            jobs[name] = ""
        elif name:
            jobs[name] += line + "\n"
    return jobs


def test_the_workflow_parses():
    import yaml

    data = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert {"windows", "macos"} <= set(data["jobs"])


def test_windows_and_macos_jobs_build_and_smoke_test():
    jobs = _workflow_jobs()
    windows, macos = jobs["windows"], jobs["macos"]
    assert "runs-on: windows-latest" in windows
    assert "macos-14" in macos
    for job in (windows, macos):
        assert 'python-version: "3.11"' in job
        assert 'pip install -e ".[test]"' in job
        assert "actions/upload-artifact@v4" in job
    assert "./packaging/windows/build.ps1" in windows
    assert "packaging/macos/build.sh" in macos
    # The smoke tests run the packaged programs with --demo --smoke-test, offscreen.
    assert windows.count("./packaging/windows/smoke_test.ps1") >= 3
    assert macos.count("packaging/macos/smoke_test.sh") >= 2
    for script in (SMOKE_PS1, MACOS / "smoke_test.sh"):
        text = script.read_text("utf-8")
        assert "--smoke-test" in text and "--demo" in text
        assert "main window ready" in text and "offscreen" in text
    # macOS: a data folder with a space, like ~/Library/Application Support.
    assert '"$RUNNER_TEMP/Application Support/fp"' in macos
    # Artifacts are the files the build scripts write.
    assert "path: dist/installers/*.exe" in windows
    assert "path: dist/installers/*.dmg" in macos


def test_signing_steps_run_only_with_their_secrets():
    for job in (_workflow_jobs()["windows"], _workflow_jobs()["macos"]):
        secrets = set(re.findall(r"(\w+): \$\{\{ secrets\.(\w+) \}\}", job))
        assert secrets and all(env == secret for env, secret in secrets)
        signing_steps = re.findall(
            r"- name: ([^\n]*(?:certificate|Notarization)[^\n]*)\n\s+if: ([^\n]+)", job, re.I)
        assert signing_steps
        assert all("!= ''" in condition for _, condition in signing_steps)


# --- documentation ------------------------------------------------------------------------

def test_the_admin_guide_links_the_install_and_packaging_docs():
    readme = (ROOT / "README.md").read_text("utf-8")
    admin = readme[readme.index("## Admin guide"):readme.index("## Development guide")]
    assert "(docs/installing.md)" in admin and "(docs/packaging.md)" in admin
    installing = INSTALLING_DOC.read_text("utf-8")
    for path in (f"%LOCALAPPDATA%\\{APP_NAME}", f"~/Library/Application Support/{APP_NAME}",
                 f"~/.local/share/{APP_NAME}"):
        assert path in installing
    for step in ("db upgrade", "org create", "person add", "pg_hba.conf", "verify-full"):
        assert step in installing
