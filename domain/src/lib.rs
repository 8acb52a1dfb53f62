//! Gatehouse's business rules and persistence.
//!
//! Every operation is a plain async function over a `PgPool` or a transaction it is
//! handed; it validates, checks the caller's permission, writes the change together with
//! its audit entry in one transaction and returns `Result<T, DomainError>`. No HTTP here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod apps;
pub mod audit;
pub mod billing;
pub mod crypto;
pub mod cursor;
pub mod demo;
pub mod effects;
pub mod email;
pub mod error;
pub mod flags;
pub mod login;
pub mod mfa;
pub mod oauth;
pub mod passwords;
pub mod permissions;
pub mod sessions;
pub mod sso;
pub mod tenants;
pub mod types;
pub mod users;
pub mod webhooks;

pub use error::{DomainError, FieldError};

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// SHA-256 of a token, as stored for session ids, reset tokens, API key secrets, ...
pub fn token_hash(token: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A fresh random token: 32 bytes, URL-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A case-insensitive "contains" pattern for SQL `LIKE` over lowercased columns, with the
/// wildcards of the search text escaped; `None` for an empty search.
pub(crate) fn contains_pattern(search: Option<&str>) -> Option<String> {
    let s = search.map(str::trim).filter(|s| !s.is_empty())?;
    Some(format!(
        "%{}%",
        s.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    ))
}

/// The layer order of ARCHITECTURE.md §3: a module may use only modules of an earlier
/// group (or its own feature). A feature that must reach a lower one calls down; the
/// lower one never imports up, so there are no import cycles.
#[cfg(test)]
mod layers {
    use std::collections::BTreeSet;
    use std::path::Path;

    const LAYERS: &[&[&str]] = &[
        &[
            "error",
            "types",
            "permissions",
            "crypto",
            "cursor",
            "effects",
            "audit",
        ],
        &["email", "flags", "passwords"],
        &["oauth"],
        &["apps", "sessions"],
        &["mfa", "users", "sso"],
        &["login", "tenants", "billing", "webhooks"],
        &["demo"],
    ];

    fn layer_of(module: &str) -> Option<usize> {
        LAYERS.iter().position(|group| group.contains(&module))
    }

    /// The top-level modules a source file names as `crate::x` or in `crate::{x, ..}`.
    fn imports(source: &str) -> BTreeSet<String> {
        let ident = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        let mut found = BTreeSet::new();
        for (at, _) in source.match_indices("crate::") {
            let rest = &source[at + "crate::".len()..];
            let Some(group) = rest.strip_prefix('{') else {
                found.insert(ident(rest));
                continue;
            };
            // The names at the group's top level (nested groups belong to their parent).
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && depth == 0 && !c.is_whitespace() => {
                        found.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        }
        found
    }

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_module_imports_a_later_layer() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut wrong = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = first.to_str().unwrap().trim_end_matches(".rs");
            if module == "lib" {
                continue;
            }
            let own = layer_of(module)
                .unwrap_or_else(|| panic!("{module} is in no layer: add it to LAYERS"));
            // Code only: a doc comment may point anywhere.
            let source: String = std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for used in imports(&source) {
                if let Some(layer) = layer_of(&used) {
                    if layer > own {
                        wrong.push(format!("{} uses crate::{used}", relative.display()));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "imports against the layer order:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn imports_are_read_from_paths_and_groups() {
        let found = imports("use crate::a::X;\nuse crate::{b, c::{d, e}, DomainError};");
        let names: Vec<_> = found.iter().map(String::as_str).collect();
        assert_eq!(names, ["DomainError", "a", "b", "c"]);
    }
}
