#!/usr/bin/env bash
# Builds podctl in release mode and installs it into $PREFIX/bin (default ~/.local).
# Idempotent: run it again to rebuild and replace the installed binary.
# Needs only the Rust toolchain (cargo).
set -euo pipefail

PREFIX="${PREFIX:-$HOME/.local}"
BIN_DIR="$PREFIX/bin"
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found" >&2
  echo "hint: install the Rust toolchain (https://rustup.rs), then run ./install.sh again" >&2
  exit 1
fi

echo "building podctl (release)…"
locked=()
[ -f Cargo.lock ] && locked=(--locked)
cargo build --release "${locked[@]}" --bin podctl

mkdir -p "$BIN_DIR"
# Copy to a temporary name, then rename: a running podctl keeps its old inode.
install -m 0755 target/release/podctl "$BIN_DIR/.podctl.new"
mv -f "$BIN_DIR/.podctl.new" "$BIN_DIR/podctl"
echo "installed $BIN_DIR/podctl"

case ":$PATH:" in
  *":$BIN_DIR:"*) ;;
  *) echo "note: $BIN_DIR is not on PATH; add it: export PATH=\"$BIN_DIR:\$PATH\"" ;;
esac

"$BIN_DIR/podctl" --version
