#!/bin/sh
# Removes what install.sh put in a prefix: the files it listed in
# PREFIX/share/vireo/installed-files, then the folders that left empty.
#
#   uninstall.sh [--prefix DIR]
#
# Run from PREFIX/share/vireo it knows its prefix; from the tarball's
# folder the prefix is ~/.local unless --prefix says otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/installed-files" ]; then
    prefix=$(cd "$here/../.." && pwd)
else
    prefix=$HOME/.local
fi
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
record=$prefix/share/vireo/installed-files
[ -f "$record" ] || { echo "uninstall.sh: vireo is not installed in $prefix (no $record)" >&2; exit 1; }

# Copy the list first: it is one of the files removed.
list=$(cat "$record")
echo "$list" | while IFS= read -r file; do
    case "$file" in
        ""|/*|*..*) echo "uninstall.sh: skipping the odd entry '$file'" >&2; continue ;;
    esac
    rm -f "$prefix/$file"
done
# The desktop-file cache install.sh refreshed: refreshed again while other
# entries remain, else removed with the last of them.
apps=$prefix/share/applications
if [ -d "$apps" ]; then
    if ls "$apps"/*.desktop >/dev/null 2>&1; then
        if command -v update-desktop-database >/dev/null; then
            update-desktop-database -q "$apps" || true
        fi
    else
        rm -f "$apps/mimeinfo.cache"
    fi
fi
# Folders the files were in, deepest first, while they are empty.
echo "$list" | while IFS= read -r file; do
    dir=$(dirname "$file")
    while [ "$dir" != "." ]; do
        echo "$dir"
        dir=$(dirname "$dir")
    done
done | sort -u | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | while IFS= read -r dir; do
    rmdir "$prefix/$dir" 2>/dev/null || true
done
echo "vireo is removed from $prefix."
