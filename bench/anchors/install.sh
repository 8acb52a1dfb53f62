#!/usr/bin/env bash
# The anchors the benchmarks measure beside Gatehouse, installed from the registries on first
# use and cached outside the clone (BENCH_ANCHORS_DIR, default ~/.cache/gatehouse-anchors).
# Source it, then call the function for the anchor a benchmark needs; each prints a path.
#   unleash_edge_bin   Unleash Edge 19.15.1 (crates.io), for bench/flags
#   oidc_provider_dir  node oidc-provider 9.13.3 (npm), for bench/tokens
anchors_dir="${BENCH_ANCHORS_DIR:-$HOME/.cache/gatehouse-anchors}"
anchors_src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

unleash_edge_bin() {
  local version=19.15.1 root="$anchors_dir/unleash-edge-19.15.1"
  if [ ! -x "$root/bin/unleash-edge" ]; then
    echo "bench: installing Unleash Edge $version (about 20 minutes on 2 cores, once)" >&2
    # utoipa-swagger-ui's build script downloads Swagger UI from GitHub; it takes the same
    # files from npm's swagger-ui-dist, zipped the way the GitHub archive is laid out.
    local swagger=5.17.14 work
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "swagger-ui-dist@$swagger" >/dev/null \
      && mkdir -p "swagger-ui-$swagger" && tar xzf "swagger-ui-dist-$swagger.tgz" \
      && mv package "swagger-ui-$swagger/dist" && zip -qr swagger.zip "swagger-ui-$swagger") >&2
    SWAGGER_UI_DOWNLOAD_URL="file://$work/swagger.zip" \
      cargo install unleash-edge --version "$version" --locked --root "$root" >&2
    rm -rf "$work"
  fi
  echo "$root/bin/unleash-edge"
}

oidc_provider_dir() {
  local dir="$anchors_dir/oidc-provider"
  if [ ! -f "$dir/node_modules/oidc-provider/package.json" ]; then
    mkdir -p "$dir"
    cp "$anchors_src/oidc-provider.package.json" "$dir/package.json"
    (cd "$dir" && npm install --silent --no-audit --no-fund) >&2
  fi
  echo "$dir"
}
