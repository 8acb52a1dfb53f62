//! Signed checkpoints of the audit chain (FR-LOG-001 tamper evidence, beyond the database).
//!
//! A checkpoint says "the trail had `size` entries and the hash of the last one was
//! `hash`, at `time`". It is a C2SP signed note whose body is a tlog checkpoint: the
//! origin line, the size, the base64 head hash, and extension lines (`time …`, and for an
//! export `export first <seq> prev <base64>` or `export filtered`). The head hash takes the
//! place of a Merkle root: each entry's hash covers its predecessor's, so the head commits
//! to every entry before it.
//!
//! The Ed25519 key signs nothing else. Its seed is sealed with the master key; its public
//! half is published (`/api/v1/audit-logs/checkpoints/key`), so anyone can check a
//! checkpoint, or an export closed by one, without Gatehouse.

use crate::crypto::MasterKeys;
use crate::DomainError;
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The signature type byte of Ed25519 in C2SP signed notes.
const ED25519_TYPE: u8 = 0x01;

fn key_hash(name: &str, public: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The public half of the key that signs the audit checkpoints, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = CheckpointKey)]
pub struct PublicKeyInfo {
    /// The key's name: the log's origin (`host/audit`), as in each checkpoint.
    pub name: String,
    /// Always `Ed25519`.
    #[schema(value_type = String, examples("Ed25519"))]
    pub algorithm: &'static str,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Hex of the 4-byte key id carried by each signature line.
    pub key_id: String,
    /// The C2SP verifier key: `name+keyid+base64(0x01 || public key)`.
    pub verifier_key: String,
}

/// A checkpoint's verifier: the key name and public key.
#[derive(Debug, Clone)]
pub struct Verifier {
    name: String,
    public: Vec<u8>,
}

impl Verifier {
    /// The newest signing key's public half as stored (no master key needed), if any.
    pub async fn stored(pool: &PgPool) -> Result<Option<Self>, DomainError> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, public_key FROM audit_signing_keys WHERE retired_at IS NULL
              ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
        Ok(row.map(|(name, public)| Self { name, public }))
    }

    /// The verifier key text (`name+keyid+base64(0x01 || key)`).
    pub fn key_text(&self) -> String {
        let mut typed = vec![ED25519_TYPE];
        typed.extend_from_slice(&self.public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_hash(&self.name, &self.public)),
            STANDARD.encode(typed)
        )
    }

    /// Parses a C2SP verifier key (`name+hex id+base64(0x01 || key)`).
    pub fn parse(text: &str) -> Result<Self, String> {
        // The name holds no '+'; the base64 key may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("a verifier key is name+keyid+base64 key".into());
        };
        let raw = STANDARD.decode(key).map_err(|_| "the key is not base64")?;
        if raw.len() != 33 || raw[0] != ED25519_TYPE {
            return Err("the key is not an Ed25519 key".into());
        }
        let public = raw[1..].to_vec();
        if hex::encode(key_hash(name, &public)) != id {
            return Err("the key id does not match the key".into());
        }
        Ok(Self {
            name: name.to_owned(),
            public,
        })
    }

    /// The body of `note` when one of its signatures is this key's and valid.
    pub fn open<'a>(&self, note: &'a str) -> Result<CheckpointBody<'a>, String> {
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or("the checkpoint has no signature")?;
        let body_text = &note[..body.len() + 1];
        let id = key_hash(&self.name, &self.public);
        let prefix = format!("\u{2014} {} ", self.name);
        let verified = signatures.lines().any(|line| {
            line.strip_prefix(&prefix)
                .and_then(|b64| STANDARD.decode(b64).ok())
                .filter(|raw| raw.len() == 68 && raw[..4] == id)
                .is_some_and(|raw| {
                    UnparsedPublicKey::new(&ED25519, &self.public)
                        .verify(body_text.as_bytes(), &raw[4..])
                        .is_ok()
                })
        });
        if !verified {
            return Err("the checkpoint's signature does not verify with this key".into());
        }
        CheckpointBody::parse(body)
    }
}

/// What a checkpoint's body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointBody<'a> {
    pub origin: &'a str,
    pub size: i64,
    pub hash: Vec<u8>,
    pub extensions: Vec<&'a str>,
}

impl<'a> CheckpointBody<'a> {
    fn parse(body: &'a str) -> Result<Self, String> {
        let mut lines = body.lines();
        let origin = lines.next().ok_or("no origin line")?;
        let size = lines
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or("no size line")?;
        let hash = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .filter(|h| h.len() == 32)
            .ok_or("no hash line")?;
        Ok(Self {
            origin,
            size,
            hash,
            extensions: lines.collect(),
        })
    }

    /// The value after `key ` in an extension line.
    pub fn extension(&self, key: &str) -> Option<&'a str> {
        self.extensions
            .iter()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
    }
}

/// The key that signs checkpoints, loaded (or made, the first time) at startup.
pub struct CheckpointSigner {
    name: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn aad(name: &str) -> String {
    format!("audit_checkpoint_key:{name}")
}

impl CheckpointSigner {
    /// The newest key, made and stored (sealed) if there is none. `origin` names a new key
    /// (e.g. `gatehouse.example.com/audit`); an existing key keeps its name.
    pub async fn load(pool: &PgPool, keys: &MasterKeys, origin: &str) -> Result<Self, DomainError> {
        for _ in 0..2 {
            let row: Option<(String, Vec<u8>)> = sqlx::query_as(
                "SELECT id, sealed_seed FROM audit_signing_keys WHERE retired_at IS NULL
                  ORDER BY created_at DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some((name, sealed)) = row {
                let seed = keys.decrypt(&sealed, &aad(&name))?;
                let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
                    .map_err(|_| anyhow::anyhow!("the checkpoint key is damaged"))?;
                return Ok(Self { name, pair });
            }
            let mut seed = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut seed);
            let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
                .map_err(|_| anyhow::anyhow!("making the checkpoint key"))?;
            // Two instances starting together: one key wins, both use it.
            sqlx::query(
                "INSERT INTO audit_signing_keys (id, public_key, sealed_seed)
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM audit_signing_keys WHERE retired_at IS NULL)
                 ON CONFLICT DO NOTHING",
            )
            .bind(origin)
            .bind(pair.public_key().as_ref())
            .bind(keys.encrypt(&seed, &aad(origin))?)
            .execute(pool)
            .await?;
        }
        Err(anyhow::anyhow!("the checkpoint key could not be stored").into())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> PublicKeyInfo {
        let verifier = self.verifier();
        PublicKeyInfo {
            name: self.name.clone(),
            algorithm: "Ed25519",
            public_key: STANDARD.encode(&verifier.public),
            key_id: hex::encode(key_hash(&self.name, &verifier.public)),
            verifier_key: verifier.key_text(),
        }
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            public: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// A signed note over `size`, `hash`, `at` and the extension lines.
    pub fn sign(
        &self,
        size: i64,
        hash: &[u8],
        at: OffsetDateTime,
        extensions: &[String],
    ) -> String {
        let mut body = format!(
            "{}\n{size}\n{}\ntime {}\n",
            self.name,
            STANDARD.encode(hash),
            at.format(&Rfc3339).unwrap_or_default()
        );
        for e in extensions {
            body.push_str(e);
            body.push('\n');
        }
        let sig = self.pair.sign(body.as_bytes());
        let mut raw = key_hash(&self.name, self.pair.public_key().as_ref()).to_vec();
        raw.extend_from_slice(sig.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Checkpoint {
    pub seq: i64,
    #[serde(with = "hex::serde")]
    pub hash: Vec<u8>,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub key_id: String,
    pub note: String,
}

/// Signs the chain's head unless it is signed already (or the trail is empty): run every
/// minute while entries arrive, and on demand. Several instances may race; one row wins.
pub async fn sign_head(
    pool: &PgPool,
    signer: &CheckpointSigner,
) -> Result<Option<Checkpoint>, DomainError> {
    let (seq, hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_chain_head WHERE singleton")
            .fetch_one(pool)
            .await?;
    if seq == 0 {
        return Ok(None);
    }
    let now = OffsetDateTime::now_utc();
    let note = signer.sign(seq, &hash, now, &[]);
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, note)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
    )
    .bind(seq)
    .bind(&hash)
    .bind(now)
    .bind(signer.name())
    .bind(&note)
    .execute(pool)
    .await
    .context("storing the checkpoint")?;
    Ok(sqlx::query_as(
        "SELECT seq, hash, signed_at, key_id, note FROM audit_checkpoints WHERE seq = $1",
    )
    .bind(seq)
    .fetch_optional(pool)
    .await?)
}

/// The newest checkpoints, newest first.
pub async fn recent_checkpoints(pool: &PgPool, limit: i64) -> Result<Vec<Checkpoint>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT seq, hash, signed_at, key_id, note FROM audit_checkpoints ORDER BY seq DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Checks every stored checkpoint against the chain: its signature with `verifier`, and
/// the hash of the entry at its size. The first problem, if any (entries before the
/// chain's start are gone by retention and are skipped).
pub async fn verify_checkpoints(
    pool: &PgPool,
    verifier: &Verifier,
) -> Result<Option<String>, DomainError> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query_as::<_, (i64, Vec<u8>, String, Option<Vec<u8>>)>(
        "SELECT c.seq, c.hash, c.note, (SELECT l.hash FROM audit_log l WHERE l.seq = c.seq)
           FROM audit_checkpoints c
          WHERE c.seq >= (SELECT seq FROM audit_chain_start WHERE singleton)
          ORDER BY c.seq",
    )
    .fetch(pool);
    while let Some((seq, hash, note, entry)) = rows.try_next().await? {
        let body = match verifier.open(&note) {
            Ok(body) => body,
            Err(why) => return Ok(Some(format!("checkpoint {seq}: {why}"))),
        };
        if body.size != seq || body.hash != hash {
            return Ok(Some(format!(
                "checkpoint {seq} does not say what its row says"
            )));
        }
        if entry.as_deref() != Some(hash.as_slice()) {
            return Ok(Some(format!(
                "entry {seq} differs from what checkpoint {seq} signed: the trail was rewritten"
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CheckpointSigner {
        CheckpointSigner {
            name: "example.test/audit".into(),
            pair: Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).unwrap(),
        }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_the_published_key_only() {
        let s = signer();
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let note = s.sign(42, &[9u8; 32], at, &["export first 7 prev AAAA".into()]);
        let verifier = Verifier::parse(&s.public_key().verifier_key).unwrap();
        let body = verifier.open(&note).unwrap();
        assert_eq!(body.size, 42);
        assert_eq!(body.hash, vec![9u8; 32]);
        assert_eq!(body.extension("export"), Some("first 7 prev AAAA"));
        let forged = note.replace("\n42\n", "\n43\n");
        assert!(verifier.open(&forged).is_err());
        let other = CheckpointSigner {
            name: "example.test/audit".into(),
            pair: Ed25519KeyPair::from_seed_unchecked(&[8u8; 32]).unwrap(),
        };
        let stranger = Verifier::parse(&other.public_key().verifier_key).unwrap();
        assert!(stranger.open(&note).is_err());
    }
}
