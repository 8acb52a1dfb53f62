#!/usr/bin/env bash
# Installs what Gatehouse needs to build and run on Debian/Ubuntu, only what is missing:
# apt packages, the wasm32 standard library (rustup target, or Debian's toolchain with std
# built from source), cargo-leptos and wasm-bindgen-cli at pinned versions, and the npm
# devDependencies. Idempotent: a second run takes seconds.
#
# Source it (". scripts/setup.sh [--tests]") to get PATH, WASM_ROUTE and LEPTOS_BUILD_ARGS.
# --tests also installs what the test command needs (Chromium, cargo-deny).

set -euo pipefail
GATEHOUSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.11
CARGO_DENY_VERSION=0.20.2
WITH_TESTS=0
for arg in "$@"; do [ "$arg" = "--tests" ] && WITH_TESTS=1; done

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$APT_UPDATED" = 0 ]; then log "apt-get update"; $SUDO apt-get update -qq; APT_UPDATED=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

export PATH="$HOME/.cargo/bin:$GATEHOUSE_ROOT/node_modules/.bin:$PATH"

# --- system packages ----------------------------------------------------------------------
command -v cargo >/dev/null || { echo "Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || apt_install nodejs npm
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
fi
# webauthn-rs links OpenSSL.
apt_install libssl-dev pkg-config
if [ "$WITH_TESTS" = 1 ]; then
  apt_install chromium python3-venv haproxy
  # The browser tests' independent peers (SMTP server, TOTP) in a venv of their own.
  E2E_VENV="$GATEHOUSE_ROOT/.venv-e2e"
  req="$GATEHOUSE_ROOT/end2end/support/requirements.txt"
  want=$(sha256sum "$req" | cut -c1-64)
  if [ "$(cat "$E2E_VENV/.stamp" 2>/dev/null)" != "$want" ]; then
    log "python venv for the browser tests (aiosmtpd, pyotp)"
    python3 -m venv "$E2E_VENV"
    "$E2E_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$E2E_VENV/.stamp"
  fi
  export E2E_PYTHON="$E2E_VENV/bin/python"
fi

# --- the wasm32 standard library -----------------------------------------------------------
# Route 1: rustup's target. Route 2 (when rustup cannot download it here): Debian's
# rustc-web with std built from source (BUILD.md).
LEPTOS_BUILD_ARGS=()
if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  WASM_ROUTE="rustup target (installed)"
elif timeout 180 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  WASM_ROUTE="rustup target (just installed)"
else
  apt_install rustc-web cargo-web rust-web-src lld-22
  export RUSTC_BOOTSTRAP=1
  LEPTOS_BUILD_ARGS=(--lib-cargo-args "-Zbuild-std=std,panic_abort --config=build.rustc='/usr/bin/rustc'")
  WASM_ROUTE="Debian rustc-web with -Zbuild-std (rustup target unavailable)"
fi
export WASM_ROUTE
log "wasm route: $WASM_ROUTE"

# --- cargo tools at pinned versions -------------------------------------------------------
# Their speed at run time does not matter: a debug build installs several times faster
# (cargo-leptos with opt-level 1 took 30 min on 2 busy cores).
quick_install() {
  "$@" --debug --root "$HOME/.cargo"
}
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  # cargo-leptos 0.3 needs rustc >= 1.96; Debian's rustc-web has it when rustup's is older.
  rustc_minor=$(rustc --version | awk '{print $2}' | cut -d. -f2)
  if [ "$rustc_minor" -ge 96 ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION"
    quick_install cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  else
    apt_install rustc-web cargo-web
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION with Debian's rustc $(/usr/bin/rustc --version | awk '{print $2}')"
    RUSTC=/usr/bin/rustc quick_install /usr/bin/cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
fi
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$GATEHOUSE_ROOT/Cargo.lock")
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a crate version this registry lacks (BUILD.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --debug --root "$HOME/.cargo"
fi

if [ "$WITH_TESTS" = 1 ] && [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  # The dependency audit of the test command (deny.toml); cargo-deny 0.20 needs rustc >= 1.88.
  log "installing cargo-deny $CARGO_DENY_VERSION"
  quick_install cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
fi

# --- npm devDependencies (Tailwind, wasm-opt, playwright-core) -------------------------------
# `npm install` with the committed lock (`npm ci` trips over Tailwind's optional
# platform packages in npm 11); re-run only when package.json or the lock changed.
stamp="$GATEHOUSE_ROOT/node_modules/.gatehouse.stamp"
want=$(cat "$GATEHOUSE_ROOT/package.json" "$GATEHOUSE_ROOT/package-lock.json" | sha256sum | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm install (from package-lock.json)"
  (cd "$GATEHOUSE_ROOT" && npm install --no-audit --no-fund --loglevel=error)
  want=$(cat "$GATEHOUSE_ROOT/package.json" "$GATEHOUSE_ROOT/package-lock.json" | sha256sum | cut -c1-64)
  echo "$want" > "$stamp"
fi
# --- The API reference (Scalar), vendored into public/ from npm ------------------------------
# One self-contained file of @scalar/api-reference (`npm pack`: the package alone, not its
# build-time dependencies), so /api/docs works offline. public/vendor/ is not committed.
SCALAR_VERSION=1.76.4
scalar_dir="$GATEHOUSE_ROOT/public/vendor/scalar"
if [ "$(cat "$scalar_dir/VERSION" 2>/dev/null)" != "$SCALAR_VERSION" ]; then
  log "vendoring @scalar/api-reference $SCALAR_VERSION into public/vendor/scalar"
  scalar_tmp=$(mktemp -d)
  (cd "$scalar_tmp" && npm pack "@scalar/api-reference@$SCALAR_VERSION" --silent >/dev/null &&
    tar xzf scalar-api-reference-"$SCALAR_VERSION".tgz package/dist/browser/standalone.js package/package.json)
  mkdir -p "$scalar_dir"
  cp "$scalar_tmp/package/dist/browser/standalone.js" "$scalar_dir/standalone.js"
  echo "$SCALAR_VERSION" > "$scalar_dir/VERSION"
  rm -rf "$scalar_tmp"
fi

# --- The IP-to-country database (NFR-SEC-006), from npm --------------------------------------
# @ip-location-db/geo-whois-asn-country-mmdb (CC0; the registries' data is CC BY 4.0, nro.net):
# only its combined IPv4+IPv6 file, pinned by version and checksum.
GEOIP_VERSION=2.3.2026061719
GEOIP_SHA256=c5f7c0e9bd6a6ccb5a2e9634764544a0d08bd0bd8788b8aedfac87bea184c652
geoip_db="$GATEHOUSE_ROOT/.data/geoip/geo-whois-asn-country.mmdb"
if ! echo "$GEOIP_SHA256  $geoip_db" | sha256sum -c --status - 2>/dev/null; then
  log "installing the IP-to-country database ($GEOIP_VERSION)"
  geoip_tmp=$(mktemp -d)
  (cd "$geoip_tmp" && npm pack "@ip-location-db/geo-whois-asn-country-mmdb@$GEOIP_VERSION" --silent >/dev/null &&
    tar xzf ip-location-db-geo-whois-asn-country-mmdb-"$GEOIP_VERSION".tgz package/geo-whois-asn-country.mmdb)
  echo "$GEOIP_SHA256  $geoip_tmp/package/geo-whois-asn-country.mmdb" | sha256sum -c --status - ||
    { echo "the IP-to-country database does not match its checksum" >&2; exit 1; }
  mkdir -p "$(dirname "$geoip_db")"
  mv "$geoip_tmp/package/geo-whois-asn-country.mmdb" "$geoip_db"
  rm -rf "$geoip_tmp"
fi

export LEPTOS_OUTPUT_NAME=gatehouse
log "ready (cargo-leptos $(cargo leptos --version | awk '{print $2}'), wasm-bindgen $WASM_BINDGEN_VERSION)"
