<#
.SYNOPSIS
  Smoke test of a built or installed Factory Pulse on Windows: start the demo offscreen, wait
  for "main window ready" (the app then quits by itself), check the database cluster's folder.

.EXAMPLE
  packaging\windows\smoke_test.ps1 -Exe dist\factorypulse\factorypulse-cli.exe -DataDir "$env:TEMP\fp data"

.PARAMETER Exe
  factorypulse-cli.exe (console: its output is read) or factorypulse.exe with -Windowed (the
  GUI exe: Windows gives it no console, so its exit status is what is checked; --smoke-test
  quits with 0 only once the main window is ready).
.PARAMETER DataDir
  FACTORYPULSE_DATA_DIR for the run; empty = the real per-user folder
  (%LOCALAPPDATA%\factorypulse-desktop).
#>
param(
    [Parameter(Mandatory = $true)][string]$Exe,
    [string]$DataDir = '',
    [int]$TimeoutSeconds = 600,
    [switch]$Windowed
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Exe = (Resolve-Path $Exe).Path
$env:QT_QPA_PLATFORM = 'offscreen'
$config = Join-Path ([IO.Path]::GetTempPath()) ("fp config " + [guid]::NewGuid())
New-Item -ItemType Directory -Force -Path $config | Out-Null
$env:FACTORYPULSE_CONFIG_DIR = $config
if ($DataDir) {
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    $env:FACTORYPULSE_DATA_DIR = $DataDir
    $expectedRoot = $DataDir
} else {
    Remove-Item Env:FACTORYPULSE_DATA_DIR -ErrorAction SilentlyContinue
    $expectedRoot = Join-Path $env:LOCALAPPDATA 'factorypulse-desktop'
}

function Invoke-App([string[]]$Arguments) {
    $out = Join-Path $config 'stdout.txt'
    $err = Join-Path $config 'stderr.txt'
    $p = Start-Process -FilePath $Exe -ArgumentList $Arguments -NoNewWindow -PassThru `
        -RedirectStandardOutput $out -RedirectStandardError $err
    $null = $p.Handle  # keeps the handle, so that ExitCode is readable after the exit
    if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
        Stop-Process -Id $p.Id -Force -ErrorAction SilentlyContinue
        Get-Content $out, $err -ErrorAction SilentlyContinue | Write-Host
        throw "$Exe $Arguments did not finish within $TimeoutSeconds s"
    }
    $text = (Get-Content -Raw $out -ErrorAction SilentlyContinue) + ''
    $errText = (Get-Content -Raw $err -ErrorAction SilentlyContinue) + ''
    Write-Host $text
    if ($errText) { Write-Host "--- stderr ---`n$errText" }
    return @{ Code = $p.ExitCode; Out = $text }
}

if (-not $Windowed) {
    $v = Invoke-App @('--version')
    if ($v.Code -ne 0 -or $v.Out -notmatch '^factorypulse \S+') { throw "--version failed: $($v.Out)" }
}

$r = Invoke-App @('--demo', '--smoke-test')
if ($r.Code -ne 0) { throw "--smoke-test exited with $($r.Code)" }
if (-not $Windowed -and $r.Out -notmatch 'main window ready') { throw 'no "main window ready" in the output' }
if ($Windowed -and $r.Out -and $r.Out -notmatch 'main window ready') { throw 'output without "main window ready"' }

$pgVersion = Join-Path $expectedRoot 'embedded\demo\data\PG_VERSION'
if (-not (Test-Path $pgVersion)) { throw "The demo database was not created at $pgVersion" }
Write-Host "Smoke test passed ($Exe, data in $expectedRoot)"
