#!/usr/bin/env bash
# Builds vireo.app and vireo-<version>-macos-<arch>.dmg on a Mac:
#
#   packaging/macos/build-app.sh [--universal] [--out DIR]
#
# Needs Xcode's command-line tools (lipo, hdiutil, codesign) and Rust with
# the targets it builds (rustup target add aarch64-apple-darwin
# x86_64-apple-darwin for --universal). The icon comes from assets/vireo.svg
# through tools/icons.sh, which needs rsvg-convert (brew install librsvg);
# a vireo.icns already in packaging/macos/ (the release pipeline makes it on
# Linux) is used as it is. The app is signed ad hoc only: notarizing needs
# an Apple Developer ID, which this recipe does not assume.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist
universal=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --universal) universal=1; shift ;;
        *) echo "build-app: unknown option $1" >&2; exit 2 ;;
    esac
done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
target_dir=${CARGO_TARGET_DIR:-target}

if [ -n "$universal" ]; then
    for t in aarch64-apple-darwin x86_64-apple-darwin; do
        cargo build --locked --profile dist --target "$t"
    done
    arch=universal
    mkdir -p "$target_dir/universal"
    bin=$target_dir/universal/vireo
    lipo -create -output "$bin" "$target_dir/aarch64-apple-darwin/dist/vireo" "$target_dir/x86_64-apple-darwin/dist/vireo"
else
    cargo build --locked --profile dist
    arch=$(uname -m)
    bin=$target_dir/dist/vireo
fi

icns=packaging/macos/vireo.icns
if [ ! -f "$icns" ]; then
    bash tools/icons.sh "$target_dir/icons"
    icns=$target_dir/icons/vireo.icns
fi

mkdir -p "$out"
app=$out/vireo.app
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp "$bin" "$app/Contents/MacOS/vireo"
cp "$icns" "$app/Contents/Resources/vireo.icns"
sed "s/@VERSION@/$version/g" packaging/macos/Info.plist >"$app/Contents/Info.plist"
plutil -lint "$app/Contents/Info.plist"
# Ad hoc: Apple silicon refuses unsigned code; Gatekeeper still asks the
# first time (right-click > Open) until the app is notarized.
codesign --force --deep --sign - "$app"

dmg=$out/vireo-$version-macos-$arch.dmg
stage=$(mktemp -d)
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "vireo $version" -srcfolder "$stage" -format UDZO -ov "$dmg"
rm -rf "$stage"
echo "build-app: $app and $dmg"
