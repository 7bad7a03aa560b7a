#!/usr/bin/env bash
# Builds vireo's Linux packages from one dist-profile binary:
#   dist/vireo_<v>-1_amd64.deb, dist/vireo-<v>-1.x86_64.rpm,
#   dist/vireo-<v>-x86_64-linux.tar.gz, and their SHA-256 sums,
# then checks them: the lowest glibc the binary needs, desktop-file-validate,
# appstreamcli, lintian, and that the .deb and .rpm install the same files.
#
#   tools/package.sh [--out DIR]
#
# The binary is built with cargo-zigbuild against glibc 2.28 (Debian 10,
# RHEL 8, Ubuntu 18.10 and newer; the .deb's libc6 dependency says the
# same) so the packages run on older distributions. Missing tools are
# installed: cargo-deb,
# cargo-generate-rpm and cargo-zigbuild with `cargo install --locked` (kept
# in ~/.cargo/bin), Zig from the PyPI package `ziglang` into a private venv.
# CARGO_TARGET_DIR is honoured; the build lands in
# $CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/dist.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

out=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        *) echo "package: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -d "$HOME/.cargo/bin" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

step() { printf 'package: %s (%ss)\n' "$1" "$SECONDS" >&2; }

triple=x86_64-unknown-linux-gnu
glibc=2.28
target_dir=${CARGO_TARGET_DIR:-$repo/target}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
app_id=$(sed -n 's/^pub const APP_ID: &str = "\(.*\)";$/\1/p' src/settings/mod.rs)
[ -n "$version" ] && [ -n "$app_id" ] || { echo "package: cannot read the version or APP_ID" >&2; exit 1; }

# Tools, at the versions these scripts were written against (a newer one
# already on PATH is used as it is).
for tool in cargo-deb@3.8.0 cargo-generate-rpm@0.21.1 cargo-zigbuild@0.24.1; do
    if ! command -v "${tool%@*}" >/dev/null; then
        step "installing $tool"
        nice -n 10 cargo install --locked --quiet "$tool"
    fi
done
if ! command -v zig >/dev/null; then
    zig_venv="${XDG_DATA_HOME:-$HOME/.local/share}/vireo/zig-venv"
    if ! "$zig_venv/bin/python3" -m ziglang version >/dev/null 2>&1; then
        step "installing Zig (PyPI ziglang) into $zig_venv"
        python3 -m venv "$zig_venv"
        "$zig_venv/bin/pip" install -q ziglang==0.17.1
    fi
    # cargo-zigbuild runs `$CARGO_ZIGBUILD_PYTHON_PATH -m ziglang`.
    export CARGO_ZIGBUILD_PYTHON_PATH="$zig_venv/bin/python3"
fi

# The binary.
step "building the dist binary"
nice -n 10 cargo zigbuild --locked --profile dist --target "$triple.$glibc"
bin_dir=$target_dir/$triple/dist
bin=$bin_dir/vireo
"$bin" --version >/dev/null

# Generated files, where Cargo.toml's asset lists expect them
# ("target/release/pkg/..." to cargo-deb and cargo-generate-rpm).
step "generating the man page, completions and icons"
pkg=$bin_dir/pkg
rm -rf "$pkg"
mkdir -p "$pkg/completions"
"$bin" --print-man | gzip -9n >"$pkg/vireo.1.gz"
"$bin" --print-completions bash >"$pkg/completions/vireo.bash"
"$bin" --print-completions zsh >"$pkg/completions/_vireo"
"$bin" --print-completions fish >"$pkg/completions/vireo.fish"
bash tools/icons.sh "$pkg/icons"

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

step "building the .deb"
cargo deb --no-build --quiet --profile dist --target "$triple" --output "$out" >/dev/null
step "building the .rpm"
cargo generate-rpm --profile dist --target "$triple" --target-dir "$target_dir" --output "$out" >/dev/null

# The tarball: the same files under one folder, with install.sh and
# uninstall.sh.
step "building the tarball"
name=vireo-$version-x86_64-linux
stage=$bin_dir/tarball/$name
rm -rf "$bin_dir/tarball"
mkdir -p "$stage"
deb=$(ls "$out"/vireo_*.deb)
dpkg-deb -x "$deb" "$bin_dir/tarball/root"
cp -a "$bin_dir/tarball/root/usr/." "$stage/"
# Debian's copyright names /usr/share/common-licenses; ship the text too.
cp assets/fonts/LICENSE-Apache-2.0 "$stage/share/doc/vireo/"
# zsh's own folder outside Debian.
mkdir -p "$stage/share/zsh/site-functions"
mv "$stage/share/zsh/vendor-completions/_vireo" "$stage/share/zsh/site-functions/"
rmdir "$stage/share/zsh/vendor-completions"
cp packaging/linux/install.sh packaging/linux/uninstall.sh "$stage/"
chmod 755 "$stage/install.sh" "$stage/uninstall.sh"
tar -C "$bin_dir/tarball" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"

step "checking"
# The lowest glibc: the newest GLIBC_x.y symbol version the binary uses.
needs=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)
echo "package: $bin needs $needs" >&2
if [ "$(printf '%s\n%s\n' "$needs" "GLIBC_$glibc" | sort -V | tail -n1)" != "GLIBC_$glibc" ]; then
    echo "package: the binary needs $needs, newer than the GLIBC_$glibc asked for" >&2
    exit 1
fi
# What can be checked here of the macOS and Windows recipes: the
# Info.plist parses as a property list, the WiX source as XML.
python3 -c 'import plistlib, sys, xml.dom.minidom
plistlib.load(open(sys.argv[1], "rb"))
xml.dom.minidom.parse(sys.argv[2])' packaging/macos/Info.plist packaging/windows/vireo.wxs
dpkg-deb -f "$deb" Depends | grep -q "^libc6 (>= $glibc)," ||
    { echo "package: the .deb's Depends does not start with libc6 (>= $glibc)" >&2; exit 1; }
desktop-file-validate "packaging/$app_id.desktop"
appstreamcli validate --no-net "packaging/$app_id.metainfo.xml"
# As root (CI containers) lintian says it is not recommended, and runs.
lintian --fail-on error --info "$deb"
rpm=$(ls "$out"/vireo-*.rpm)
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}' | grep -v '^/usr/share/doc/' | sort)
# Debian puts zsh completions in vendor-completions, Fedora in site-functions.
rpm_files=$(rpm -qpl "$rpm" 2>/dev/null | grep -v '^/usr/share/licenses/' |
    sed 's#/zsh/site-functions/#/zsh/vendor-completions/#' | sort)
if [ "$deb_files" != "$rpm_files" ]; then
    echo "package: the .deb and the .rpm install different files:" >&2
    diff <(echo "$deb_files") <(echo "$rpm_files") >&2
    exit 1
fi
echo "package: the .deb and the .rpm install the same $(echo "$deb_files" | wc -l) files" >&2

(cd "$out" && sha256sum -- *.deb *.rpm *.tar.gz >SHA256SUMS)
step "done"
ls -l "$out" >&2
