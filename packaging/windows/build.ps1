<#
.SYNOPSIS
  Builds the Factory Pulse Windows installer: PyInstaller one-folder bundle, then Inno Setup.

.DESCRIPTION
  Run from anywhere, in a Python 3.11 environment (a venv is best):

    powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1

  Output: dist\factorypulse\factorypulse.exe (the bundle) and
          dist\installers\FactoryPulse-<version>-setup.exe (the installer).

  Signing is optional and happens only when a certificate is configured (docs/packaging.md):
    FACTORYPULSE_SIGN_SHA1          thumbprint of a code signing certificate in the user's
                                    certificate store (or on a token), or
    FACTORYPULSE_SIGN_PFX           path of a .pfx file, with
    FACTORYPULSE_SIGN_PFX_PASSWORD  its password;
    FACTORYPULSE_SIGN_TIMESTAMP_URL RFC 3161 time stamp server (default DigiCert's).
  Then factorypulse.exe and factorypulse-cli.exe are signed before they are packed, and Inno Setup signs the installer and
  the uninstaller through the Sign Tool "fpsign".

.PARAMETER SkipDeps
  Do not pip install the build tools (they are already in the environment).
#>
param([switch]$SkipDeps)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = Resolve-Path (Join-Path $PSScriptRoot '..\..')
Set-Location $Root

function Invoke-Checked {
    # Runs a native command and stops on a non-zero exit code ($ErrorActionPreference does not
    # cover native commands in Windows PowerShell 5.1).
    param([string]$Exe, [string[]]$Arguments)
    Write-Host "> $Exe $($Arguments -join ' ')"
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe failed with exit code $LASTEXITCODE" }
}

function Find-Iscc {
    $cmd = Get-Command iscc.exe -ErrorAction SilentlyContinue
    if ($cmd) { return $cmd.Source }
    $candidates = @(
        "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
        "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
        "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe"
    )
    foreach ($c in $candidates) { if ($c -and (Test-Path $c)) { return $c } }
    throw 'ISCC.exe (Inno Setup 6.3 or newer) not found: install it (choco install innosetup, or https://jrsoftware.org/isdl.php) or put it on PATH.'
}

function Find-SignTool {
    $cmd = Get-Command signtool.exe -ErrorAction SilentlyContinue
    if ($cmd) { return $cmd.Source }
    # The Windows SDK keeps one folder per SDK version; take the newest x64 signtool.
    $kits = "${env:ProgramFiles(x86)}\Windows Kits\10\bin"
    if (Test-Path $kits) {
        $found = Get-ChildItem -Path $kits -Recurse -Filter signtool.exe -ErrorAction SilentlyContinue |
            Where-Object { $_.FullName -match '\\x64\\' } |
            Sort-Object FullName -Descending | Select-Object -First 1
        if ($found) { return $found.FullName }
    }
    throw 'signtool.exe not found: install the Windows SDK signing tools or put signtool on PATH.'
}

# 1. Build tools ------------------------------------------------------------------------------
if (-not $SkipDeps) {
    Invoke-Checked python @('-m', 'pip', 'install', '--upgrade', 'pip')
    Invoke-Checked python @('-m', 'pip', 'install', '-e', '.', 'pyinstaller>=6.10')
}
$Version = (& python -c 'import factorypulse_desktop; print(factorypulse_desktop.__version__)').Trim()
if ($LASTEXITCODE -ne 0 -or -not $Version) { throw 'Could not read factorypulse_desktop.__version__' }
Write-Host "Factory Pulse $Version"

# 2. Icons and the one-folder bundle ------------------------------------------------------------
Invoke-Checked python @('packaging/make_icons.py')
Invoke-Checked python @('-m', 'PyInstaller', '--noconfirm', '--clean', 'packaging/factorypulse.spec')
$Exe = Join-Path $Root 'dist\factorypulse\factorypulse.exe'
if (-not (Test-Path $Exe)) { throw "PyInstaller did not produce $Exe" }

# 3. Optional signing of the programs themselves -------------------------------------------------------
$Timestamp = if ($env:FACTORYPULSE_SIGN_TIMESTAMP_URL) { $env:FACTORYPULSE_SIGN_TIMESTAMP_URL } else { 'http://timestamp.digicert.com' }
$SignArgs = $null
if ($env:FACTORYPULSE_SIGN_SHA1) {
    $SignArgs = @('sign', '/fd', 'sha256', '/tr', $Timestamp, '/td', 'sha256', '/sha1', $env:FACTORYPULSE_SIGN_SHA1)
} elseif ($env:FACTORYPULSE_SIGN_PFX) {
    if (-not (Test-Path $env:FACTORYPULSE_SIGN_PFX)) { throw "FACTORYPULSE_SIGN_PFX: no file $env:FACTORYPULSE_SIGN_PFX" }
    $SignArgs = @('sign', '/fd', 'sha256', '/tr', $Timestamp, '/td', 'sha256', '/f', $env:FACTORYPULSE_SIGN_PFX)
    if ($env:FACTORYPULSE_SIGN_PFX_PASSWORD) { $SignArgs += @('/p', $env:FACTORYPULSE_SIGN_PFX_PASSWORD) }
}

$IsccArgs = @("/DAppVersion=$Version")
if ($SignArgs) {
    $SignTool = Find-SignTool
    # Our programs: factorypulse.exe (windowed) and factorypulse-cli.exe (console).
    foreach ($program in (Get-ChildItem -Path (Join-Path $Root 'dist\factorypulse') -Filter *.exe)) {
        Write-Host "Signing $($program.FullName)"
        & $SignTool @SignArgs $program.FullName
        if ($LASTEXITCODE -ne 0) { throw "signtool failed with exit code $LASTEXITCODE" }
        & $SignTool verify /pa $program.FullName
        if ($LASTEXITCODE -ne 0) { throw "The signature of $($program.Name) does not verify" }
    }

    # The Sign Tool for Inno Setup: "$q" is a quote, "$f" the file to sign and "$$" a dollar
    # sign (Inno Setup expands them; single quotes keep PowerShell from reading them as
    # variables).
    $quoted = foreach ($a in $SignArgs) {
        $a = $a.Replace('$', '$$')
        if ($a -match '\s') { '$q' + $a + '$q' } else { $a }
    }
    $IsccArgs += @('/DSign', ('/Sfpsign=$q' + $SignTool + '$q ' + ($quoted -join ' ') + ' $f'))
}

# 4. The installer ------------------------------------------------------------------------------
$Iscc = Find-Iscc
$IsccArgs += @('packaging\windows\factorypulse.iss')
# Not echoed: the Sign Tool line can hold the certificate password.
& $Iscc @IsccArgs
if ($LASTEXITCODE -ne 0) { throw "ISCC failed with exit code $LASTEXITCODE" }

$Installer = Join-Path $Root "dist\installers\FactoryPulse-$Version-setup.exe"
if (-not (Test-Path $Installer)) { throw "ISCC did not produce $Installer" }
Write-Host "Installer: $Installer"
