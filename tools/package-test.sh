#!/usr/bin/env bash
# Installs the packages tools/package.sh built and runs the installed vireo:
#
#   tools/package-test.sh [DIR]     (DIR: tools/package.sh's output, dist/)
#
# The .deb: `apt-get install --no-install-recommends`, then the installed
# /usr/bin/vireo prints its version, takes a headless text snapshot of a
# real nvim ($VIREO_NVIM, else nvim on PATH) and the screen is checked;
# `man vireo` renders; the bash completion loads; the installed desktop
# entry and metainfo validate. `apt-get purge` must then leave none of the
# package's files behind. The tarball: the same through install.sh
# --prefix into a temporary folder, and uninstall.sh must leave it empty.
# Uses sudo when not root; leaves no vireo package installed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(cd "${1:-dist}" && pwd)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
nvim=${VIREO_NVIM:-$(command -v nvim)}
app_id=$(sed -n 's/^pub const APP_ID: &str = "\(.*\)";$/\1/p' src/settings/mod.rs)
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vireo-runtime-$(id -u)"
    mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "package-test: $*" >&2; exit 1; }
step() { printf 'package-test: %s (%ss)\n' "$1" "$SECONDS" >&2; }

# Runs one installed vireo: version, a snapshot of nvim, the man page, the
# bash completion.
check_vireo() {
    local vireo=$1 man_path=$2 bash_completion=$3 out=$tmp/screen.txt
    "$vireo" --version | grep -q '^vireo ' || fail "$vireo --version"
    "$vireo" --version --verbose --nvim "$nvim" | grep -q "^nvim: .*(NVIM v0" || fail "$vireo --version --verbose"
    rm -f "$out"
    "$vireo" --nvim "$nvim" --no-config --grid 40x6 --snapshot-text "$out" \
        --keys 'ihello from the package<Esc>' -- --clean -n
    [ "$(wc -l <"$out")" -eq 6 ] || fail "the snapshot has $(wc -l <"$out") rows, not 6"
    head -n1 "$out" | grep -q '^hello from the package' || fail "the snapshot shows: $(cat "$out")"
    MANPATH=$man_path MANWIDTH=80 man -P cat vireo 2>/dev/null | grep -q -- '--snapshot-text' ||
        fail "man vireo does not render"
    bash -c "source '$bash_completion' && complete -p vireo" | grep -q 'vireo$' ||
        fail "the bash completion does not load"
}

# The .deb.
deb=$(ls "$dir"/vireo_*.deb)
step "installing $(basename "$deb")"
if dpkg-query -W -f='${Status}' vireo 2>/dev/null | grep -q "ok installed"; then
    fail "a vireo package is already installed; remove it first"
fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
files=$(dpkg-query -L vireo | while IFS= read -r f; do [ -d "$f" ] || echo "$f"; done)
[ "$(command -v vireo)" = /usr/bin/vireo ] || [ -x /usr/bin/vireo ] || fail "no /usr/bin/vireo"
check_vireo /usr/bin/vireo /usr/share/man /usr/share/bash-completion/completions/vireo
desktop-file-validate "/usr/share/applications/$app_id.desktop"
appstreamcli validate --no-net "/usr/share/metainfo/$app_id.metainfo.xml" >/dev/null
step "removing the .deb"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq vireo >/dev/null
left=$(echo "$files" | while IFS= read -r f; do [ ! -e "$f" ] || echo "$f"; done)
[ -z "$left" ] || fail "purging the .deb left: $left"
echo "package-test: the .deb installed $(echo "$files" | wc -l) files, ran, and left nothing behind" >&2

# The tarball, into a temporary prefix.
tarball=$(ls "$dir"/vireo-*-x86_64-linux.tar.gz)
step "installing $(basename "$tarball") with install.sh --prefix"
tar -C "$tmp" -xzf "$tarball"
prefix=$tmp/prefix
"$tmp"/vireo-*-x86_64-linux/install.sh --prefix "$prefix" >/dev/null
grep -q "^Exec=$prefix/bin/vireo " "$prefix/share/applications/$app_id.desktop" ||
    fail "install.sh did not point the desktop entry at $prefix/bin/vireo"
check_vireo "$prefix/bin/vireo" "$prefix/share/man" "$prefix/share/bash-completion/completions/vireo"
"$prefix/share/vireo/uninstall.sh" >/dev/null
left=$(cd "$prefix" && find . -mindepth 1)
[ -z "$left" ] || fail "uninstall.sh left: $left"
echo "package-test: the tarball installed, ran, and uninstalled to an empty prefix" >&2
