#!/bin/sh
# Installs vireo from this folder (the portable tarball) into a prefix:
# ~/.local by default, so no root is needed.
#
#   ./install.sh [--prefix DIR]
#
# Copies bin/vireo and share/ (desktop entry, AppStream metadata, icons, man
# page, shell completions, licences) into DIR, records every file it wrote
# in DIR/share/vireo/installed-files, and puts uninstall.sh next to that
# list: DIR/share/vireo/uninstall.sh removes exactly those files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=$HOME/.local
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
app_id=io.github.vireo.Vireo
record=$prefix/share/vireo/installed-files
mkdir -p "$prefix/share/vireo"
: >"$record.new"

# Every file under bin/ and share/, with its mode.
(cd "$here" && find bin share -type f) | while IFS= read -r file; do
    mkdir -p "$prefix/$(dirname "$file")"
    cp "$here/$file" "$prefix/$file"
    echo "$file" >>"$record.new"
done
chmod 755 "$prefix/bin/vireo"
# The desktop entry starts vireo by its full path: the prefix's bin/ need
# not be on the desktop session's PATH.
sed -i "s|^Exec=vireo |Exec=$prefix/bin/vireo |" "$prefix/share/applications/$app_id.desktop"
cp "$here/uninstall.sh" "$prefix/share/vireo/uninstall.sh"
chmod 755 "$prefix/share/vireo/uninstall.sh"
echo share/vireo/uninstall.sh >>"$record.new"
echo share/vireo/installed-files >>"$record.new"
mv "$record.new" "$record"

# Desktops notice new entries and icons by themselves; these caches only
# make it immediate, so a missing tool is no failure.
if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$prefix/share/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null && [ -f "$prefix/share/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q "$prefix/share/icons/hicolor" || true
fi

echo "vireo is installed in $prefix ($(wc -l <"$record") files)."
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Add $prefix/bin to PATH to run it as 'vireo'." ;;
esac
echo "vireo needs Neovim 0.10 or newer: https://github.com/neovim/neovim/releases"
echo "To remove it: $prefix/share/vireo/uninstall.sh"
