# Builds vireo-<version>-x86_64.msi on Windows:
#
#   powershell -File packaging\windows\build-msi.ps1 [-Out dist]
#
# Needs Rust (MSVC toolchain, whose Windows SDK has the resource compiler
# build.rs uses for the exe's icon and version resource) and the WiX
# Toolset as a .NET tool: dotnet tool install --global wix. The icon,
# packaging\windows\vireo.ico, is made from assets\vireo.svg by
# tools/icons.sh (on Linux or macOS: it needs rsvg-convert); the release
# pipeline makes it in its Linux job.
param([string]$Out = "dist")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$version = (Select-String -Path Cargo.toml -Pattern '^version = "(.*)"$' | Select-Object -First 1).Matches.Groups[1].Value
if (-not (Test-Path packaging\windows\vireo.ico)) { throw "packaging\windows\vireo.ico is missing: run tools/icons.sh OUT and copy OUT/vireo.ico there" }
cargo build --locked --profile dist
if ($LASTEXITCODE -ne 0) { throw "cargo build failed" }
$targetDir = if ($env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR } else { "target" }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$msi = Join-Path $Out "vireo-$version-x86_64.msi"
wix build packaging\windows\vireo.wxs -arch x64 -d "Version=$version" -d "ExePath=$targetDir\dist\vireo.exe" -d "IconPath=packaging\windows\vireo.ico" -o $msi
if ($LASTEXITCODE -ne 0) { throw "wix build failed" }
Write-Host "build-msi: $msi"
