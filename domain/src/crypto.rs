//! Secrets at rest (SPEC §10, CON-SEC-004, NFR-SEC-002): AES-256-GCM under a master key.
//!
//! Keys carry ids so they can be rotated: the first key of the key ring encrypts, every
//! key decrypts what it encrypted. A ciphertext is self-describing:
//! `0x01 | len(kid) | kid | 12-byte nonce | ciphertext+tag`. Callers pass associated data
//! naming what the secret belongs to (e.g. `sso_client_secret:{tenant_id}`), so a
//! ciphertext copied to another row does not decrypt.
//!
//! Key ring text form: `kid=base64(32 bytes)` entries separated by commas or newlines.

use crate::DomainError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::Path;

const VERSION: u8 = 1;

#[derive(Clone)]
pub struct MasterKeys {
    /// (kid, cipher); the first one encrypts.
    keys: Vec<(String, Aes256Gcm)>,
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("MasterKeys")
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("the master key ring is empty")]
    Empty,
    #[error("master key entry {0}: expected kid=base64(32 bytes)")]
    Malformed(usize),
    #[error("master key id '{0}' appears twice")]
    DuplicateKid(String),
    #[error("reading the master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl MasterKeys {
    /// Parses the key ring text form.
    pub fn parse(text: &SecretString) -> Result<Self, KeyRingError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        let entries = text
            .expose_secret()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.starts_with('#'));
        for (i, entry) in entries.enumerate() {
            let (kid, b64) = entry
                .split_once('=')
                .ok_or(KeyRingError::Malformed(i + 1))?;
            let kid = kid.trim();
            let valid_kid = !kid.is_empty()
                && kid.len() <= 64
                && kid
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| KeyRingError::Malformed(i + 1))?;
            if !valid_kid || bytes.len() != 32 {
                return Err(KeyRingError::Malformed(i + 1));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(KeyRingError::DuplicateKid(kid.to_owned()));
            }
            keys.push((
                kid.to_owned(),
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            ));
        }
        if keys.is_empty() {
            return Err(KeyRingError::Empty);
        }
        Ok(Self { keys })
    }

    /// A new random key ring text with one key.
    pub fn generate_text(kid: &str) -> SecretString {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretString::from(format!("{kid}={}\n", STANDARD.encode(key)))
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<Self, KeyRingError> {
        let io = |source| KeyRingError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let text = Self::generate_text("k1");
            write_private_file(path, text.expose_secret().as_bytes()).map_err(io)?;
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::parse(&SecretString::from(text))
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &str) -> Result<Vec<u8>, DomainError> {
        let (kid, cipher) = self
            .keys
            .first()
            .ok_or_else(|| anyhow::anyhow!("no master key"))?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(2 + kid.len() + 12 + sealed.len());
        out.push(VERSION);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, blob: &[u8], aad: &str) -> Result<Vec<u8>, DomainError> {
        let fail = |why: &str| {
            DomainError::Unexpected(anyhow::anyhow!("cannot decrypt a stored secret: {why}"))
        };
        let (&version, rest) = blob.split_first().ok_or_else(|| fail("empty"))?;
        if version != VERSION {
            return Err(fail("unknown format version"));
        }
        let (&kid_len, rest) = rest.split_first().ok_or_else(|| fail("truncated"))?;
        let kid_len = usize::from(kid_len);
        if rest.len() < kid_len + 12 + 16 {
            return Err(fail("truncated"));
        }
        let (kid, rest) = rest.split_at(kid_len);
        let (nonce, sealed) = rest.split_at(12);
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k.as_bytes() == kid)
            .map(|(_, c)| c)
            .ok_or_else(|| fail("its key id is not in the key ring"))?;
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| fail("wrong key or tampered data"))
    }
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(text: &str) -> MasterKeys {
        MasterKeys::parse(&SecretString::from(text.to_owned())).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The key id a ciphertext was sealed with.
    fn kid_of(blob: &[u8]) -> Option<&str> {
        let len = usize::from(*blob.get(1)?);
        std::str::from_utf8(blob.get(2..2 + len)?).ok()
    }

    #[test]
    fn round_trip_and_rotation() {
        let old = MasterKeys::generate_text("old");
        let new = MasterKeys::generate_text("new");
        let before = ring(old.expose_secret());
        let sealed = before
            .encrypt(b"client-secret", "sso:t1")
            .unwrap_or_default();
        assert_eq!(kid_of(&sealed), Some("old"));
        // After rotation the new key encrypts, the old one still decrypts.
        let after = ring(&format!(
            "{},{}",
            new.expose_secret().trim(),
            old.expose_secret().trim()
        ));
        assert_eq!(after.keys.first().map(|(k, _)| k.as_str()), Some("new"));
        assert_eq!(
            after.decrypt(&sealed, "sso:t1").ok().as_deref(),
            Some(&b"client-secret"[..])
        );
        let resealed = after.encrypt(b"x", "a").unwrap_or_default();
        assert_eq!(kid_of(&resealed), Some("new"));
    }

    #[test]
    fn wrong_key_wrong_context_and_tampering_fail() {
        let a = ring(MasterKeys::generate_text("k1").expose_secret());
        let b = ring(MasterKeys::generate_text("k1").expose_secret());
        let sealed = a.encrypt(b"seed", "totp:u1").unwrap_or_default();
        assert!(
            b.decrypt(&sealed, "totp:u1").is_err(),
            "another key with the same id"
        );
        assert!(
            a.decrypt(&sealed, "totp:u2").is_err(),
            "moved to another row"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(a.decrypt(&tampered, "totp:u1").is_err());
        assert!(a.decrypt(&sealed[..10], "totp:u1").is_err());
        assert!(a.decrypt(&[], "totp:u1").is_err());
    }

    #[test]
    fn key_ring_parsing_refuses_bad_input() {
        for bad in [
            "",
            "k1",
            "k1=short",
            "k 1=AAAA",
            "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(
                MasterKeys::parse(&SecretString::from(bad.to_owned())).is_err(),
                "{bad:?}"
            );
        }
        let k = MasterKeys::generate_text("k1");
        let twice = format!("{}\n{}", k.expose_secret().trim(), k.expose_secret().trim());
        assert!(matches!(
            MasterKeys::parse(&SecretString::from(twice)),
            Err(KeyRingError::DuplicateKid(_))
        ));
        assert!(!format!("{:?}", ring(k.expose_secret())).contains(k.expose_secret().trim()));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("gatehouse-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("master.key");
        let first = MasterKeys::load_or_create_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let sealed = first.encrypt(b"v", "ctx").unwrap_or_default();
        let second = MasterKeys::load_or_create_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            second.decrypt(&sealed, "ctx").ok().as_deref(),
            Some(&b"v"[..])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
