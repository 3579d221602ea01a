# Shared by the scripts in this folder: source it, do not run it.
# Puts the project's tools on PATH and selects the Rust toolchain that the
# bootstrap found able to build wasm32 (written to $BOOTSTRAP_ENV).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="$ROOT/.cache"
BOOTSTRAP_ENV="$CACHE_DIR/bootstrap.env"

# The demo's wasm-opt lives apart from the dev dependencies (bootstrap --demo).
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$CACHE_DIR/demo-npm/node_modules/.bin:$PATH"

# Logs a step so that a CI log shows where time goes.
step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly when we are root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version pinned in Cargo.toml (`wasm-bindgen = "=X.Y.Z"`).
pinned_wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen = "=\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1
}

load_bootstrap_env() {
  [ -f "$BOOTSTRAP_ENV" ] || die "run scripts/bootstrap first"
  # shellcheck disable=SC1090
  . "$BOOTSTRAP_ENV"
}
