//! The built site's assets (`GATEHOUSE_SITE_ROOT/pkg`: the wasm, its JS loader and the
//! CSS), served under a path naming a digest of their contents, `/pkg/<digest>/…`. A new
//! build is a new URL, so browsers keep them for a year without asking again
//! (`Cache-Control: immutable`), and an instance never answers an old page's request with
//! another build's wasm. The Brotli and gzip copies the release build writes beside each
//! file (`cargo leptos build --release --precompress`) are served by `Accept-Encoding`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use sha2::{Digest, Sha256};
use std::path::Path;
use tower_http::services::ServeDir;

/// The directory under the site root holding the assets.
const PKG: &str = "pkg";
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The digest naming this build's assets: SHA-256 over each file's name and contents
/// (not the compressed copies), in name order, as 12 hex digits. A site root without assets
/// (an API-only run) gets `none`.
pub fn version(site_root: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(site_root.join(PKG)) else {
        return "none".into();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && !matches!(p.extension().and_then(|e| e.to_str()), Some("br" | "gz"))
        })
        .collect();
    if files.is_empty() {
        return "none".into();
    }
    files.sort();
    let mut digest = Sha256::new();
    for file in &files {
        let Ok(contents) = std::fs::read(file) else {
            continue;
        };
        digest.update(
            file.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        digest.update((contents.len() as u64).to_be_bytes());
        digest.update(&contents);
    }
    hex::encode(&digest.finalize()[..6])
}

/// The URL path the pages name the assets by (`LeptosOptions::site_pkg_dir`).
pub fn pkg_dir(version: &str) -> String {
    format!("{PKG}/{version}")
}

/// `/<pkg_dir>/…` (`pkg_dir` of this build's version): the files with their precompressed
/// copies, cacheable for good.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path, pkg_dir: &str) -> Router<S> {
    let files = ServeDir::new(site_root.join(PKG))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), files)
        .layer(axum::middleware::map_response(cache_forever))
}

/// Only what was found is kept: a 404 must not be remembered for a year. The answer
/// depends on `Accept-Encoding` (a Brotli, gzip or plain body), which shared caches must
/// know (`ServeDir` does not say it).
async fn cache_forever(mut response: Response) -> Response {
    if matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, IMMUTABLE);
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::version;

    #[test]
    fn the_version_follows_the_contents_and_ignores_the_compressed_copies() {
        let dir = std::env::temp_dir().join(format!("gatehouse-assets-{}", std::process::id()));
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        assert_eq!(version(&dir), "none");
        std::fs::write(pkg.join("gatehouse.wasm"), b"one").unwrap();
        let first = version(&dir);
        assert_eq!(first.len(), 12);
        std::fs::write(pkg.join("gatehouse.wasm.br"), b"compressed").unwrap();
        assert_eq!(version(&dir), first);
        std::fs::write(pkg.join("gatehouse.wasm"), b"two").unwrap();
        assert_ne!(version(&dir), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
