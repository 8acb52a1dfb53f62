//! Personal data in the audit trail, encrypted per data subject (CON-COMP-001: erasure that
//! keeps the chain's proofs, by crypto-shredding).
//!
//! Every person (`user:<id>`), every address seen with no person (`ip:<ref>`) and every
//! email address that is no account's (`email:<ref>`) has a data key of its own, sealed
//! with the master key in `subject_keys`. An entry's personal values (see [`plan`]) are
//! stored as `{"$sealed": "<subject>", "ct": "<base64 of nonce and AES-256-GCM ciphertext>"}`,
//! so the chain and the checkpoints hash ciphertext. Erasing a person destroys their key:
//! the ciphertext stays, the chain still verifies, and nobody — operators included — can
//! read it again. Readers open the values with a cache of data keys; a destroyed key reads
//! as `[erased]`.
//!
//! Searching by address cannot read ciphertext, so an entry's address also gets a keyed
//! hash (`audit_ip_refs`, outside the chain, filed under the same subject), which erasure
//! deletes with the key.
//!
//! The keys live in one process-wide [`Sealer`], installed at start-up with the master key
//! ([`install`]), because every one of the trail's writers seals and most of them have no
//! other use for the master key.

use super::AuditEntry;
use crate::crypto::MasterKeys;
use crate::DomainError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::Sha256;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{OnceLock, RwLock};
use uuid::Uuid;

/// What a personal value reads as once its subject is erased.
pub const ERASED: &str = "[erased]";
/// The channel on which an erasure tells every instance to drop the subject's cached key.
pub const ERASED_CHANNEL: &str = "gatehouse_subject_erased";

const SEALED: &str = "$sealed";
/// Text that appears in a metadata's JSON only when it holds a sealed value.
pub const SEALED_MARK: &str = "\"$sealed\"";
const CIPHERTEXT: &str = "ct";
/// The subject whose key makes the address and email references.
const INDEX_SUBJECT: &str = "$index";
/// Cached keys before the cache starts again (each is ~100 bytes with its name).
const CACHE_LIMIT: usize = 100_000;

/// Metadata values about the entry's actor: where the request came from.
const ACTOR_FIELDS: &[&str] = &["ip", "user_agent", "country", "previous_country"];
/// Metadata values about the entry's person: their identity and what changed in it.
const PERSON_FIELDS: &[&str] = &[
    "email",
    "new_email",
    "old_email",
    "name",
    "old_name",
    "new_name",
    "subject",
    "label",
    "old",
    "new",
    "changes",
];
/// The keys whose values are personal wherever they appear (the trail's, and events').
pub fn personal_keys() -> Vec<&'static str> {
    ACTOR_FIELDS.iter().chain(PERSON_FIELDS).copied().collect()
}

/// Of those, the ones that name a person even on an entry about no account.
const EMAIL_FIELDS: &[&str] = &["email", "new_email", "old_email"];
/// Resources that are a person's own things; an entry about one is about its actor.
const PERSONAL_RESOURCES: &[&str] = &[
    "passkey",
    "mfa_totp",
    "mfa",
    "recovery_codes",
    "session",
    "email_change",
    "device",
];

#[derive(Clone)]
enum DataKey {
    Live([u8; 32]),
    Destroyed,
}

/// The data keys of the trail's subjects, opened with the master key and cached.
pub struct Sealer {
    master: MasterKeys,
    /// Off where one process serves many databases (the domain tests).
    caching: bool,
    keys: RwLock<HashMap<String, DataKey>>,
}

static SEALER: OnceLock<Sealer> = OnceLock::new();

/// Installs the master key that seals the subjects' data keys; the first call wins.
pub fn install(master: MasterKeys) {
    let _ = SEALER.set(Sealer::new(master, true));
}

pub(crate) fn sealer() -> Result<&'static Sealer, DomainError> {
    #[cfg(feature = "test-support")]
    if SEALER.get().is_none() {
        let ring = secrecy::SecretString::from(format!("test={}", STANDARD.encode([7u8; 32])));
        let master = MasterKeys::parse(&ring).map_err(|e| anyhow::anyhow!("{e}"))?;
        let _ = SEALER.set(Sealer::new(master, false));
    }
    SEALER.get().ok_or_else(|| {
        DomainError::Unexpected(anyhow::anyhow!(
            "the keys of the audit trail's personal data are not installed"
        ))
    })
}

/// Drops the cached keys of `subjects` (another instance erased them).
pub fn forget(subjects: &[String]) {
    if let Some(s) = SEALER.get() {
        if let Ok(mut keys) = s.keys.write() {
            for subject in subjects {
                keys.remove(subject);
            }
        }
    }
}

/// Drops every cached key (the erasure channel was lost for a while).
pub fn forget_all() {
    if let Some(s) = SEALER.get() {
        if let Ok(mut keys) = s.keys.write() {
            keys.clear();
        }
    }
}

/// The subject of a person's personal data.
pub fn person_subject(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Where an entry's address reference goes: the reference and the subject it is filed under.
#[derive(Debug, Clone, Default)]
pub(crate) struct IpRef {
    pub(crate) ip_ref: Option<Vec<u8>>,
    pub(crate) subject: Option<String>,
}

fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
}

fn aad(subject: &str, field: &str) -> String {
    format!("audit:{subject}:{field}")
}

impl Sealer {
    fn new(master: MasterKeys, caching: bool) -> Self {
        Self {
            master,
            caching,
            keys: RwLock::new(HashMap::new()),
        }
    }

    fn cached(&self, subject: &str) -> Option<DataKey> {
        if !self.caching {
            return None;
        }
        self.keys.read().ok()?.get(subject).cloned()
    }

    fn remember(&self, subject: &str, key: DataKey) {
        if !self.caching {
            return;
        }
        if let Ok(mut keys) = self.keys.write() {
            if keys.len() >= CACHE_LIMIT {
                keys.clear();
            }
            keys.insert(subject.to_owned(), key);
        }
    }

    fn open_key(&self, subject: &str, sealed: Option<Vec<u8>>) -> Result<DataKey, DomainError> {
        let Some(sealed) = sealed else {
            return Ok(DataKey::Destroyed);
        };
        let raw = self
            .master
            .decrypt(&sealed, &format!("subject_key:{subject}"))?;
        let key: [u8; 32] = raw
            .try_into()
            .map_err(|_| anyhow::anyhow!("a subject's data key is not 32 bytes"))?;
        Ok(DataKey::Live(key))
    }

    /// The data key of `subject`, made on first use. A key made by this transaction is not
    /// cached until it is known to be committed (a later read finds it older than the
    /// transaction), so a rollback cannot leave a key in the cache that the database lost.
    async fn key_for(
        &self,
        conn: &mut PgConnection,
        subject: &str,
    ) -> Result<DataKey, DomainError> {
        if let Some(key) = self.cached(subject) {
            return Ok(key);
        }
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let sealed = self
            .master
            .encrypt(&fresh, &format!("subject_key:{subject}"))?;
        let row: Option<(Option<Vec<u8>>, bool)> = sqlx::query_as(
            "WITH made AS (
                 INSERT INTO subject_keys (subject, sealed_key) VALUES ($1, $2)
                 ON CONFLICT (subject) DO NOTHING RETURNING sealed_key
             )
             SELECT sealed_key, false FROM made
             UNION ALL
             SELECT sealed_key, created_at < now() FROM subject_keys
              WHERE subject = $1 AND NOT EXISTS (SELECT 1 FROM made)",
        )
        .bind(subject)
        .bind(&sealed)
        .fetch_optional(&mut *conn)
        .await?;
        // A key committed by another transaction after this statement's snapshot began.
        let (sealed, committed) = match row {
            Some(row) => row,
            None => sqlx::query_as(
                "SELECT sealed_key, created_at < now() FROM subject_keys WHERE subject = $1",
            )
            .bind(subject)
            .fetch_one(&mut *conn)
            .await
            .context("reading a subject's data key")?,
        };
        let key = self.open_key(subject, sealed)?;
        if committed {
            self.remember(subject, key.clone());
        }
        Ok(key)
    }

    /// The keys of `subjects`, from the cache or in one query; unknown ones read as destroyed.
    async fn keys_of<'e>(
        &self,
        db: impl sqlx::PgExecutor<'e>,
        subjects: HashSet<String>,
    ) -> Result<HashMap<String, DataKey>, DomainError> {
        let mut found = HashMap::with_capacity(subjects.len());
        let mut missing = Vec::new();
        for subject in subjects {
            match self.cached(&subject) {
                Some(key) => {
                    found.insert(subject, key);
                }
                None => missing.push(subject),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let rows: Vec<(String, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT subject, sealed_key FROM subject_keys WHERE subject = ANY($1)")
                .bind(&missing)
                .fetch_all(db)
                .await?;
        for (subject, sealed) in rows {
            let key = self.open_key(&subject, sealed)?;
            self.remember(&subject, key.clone());
            found.insert(subject, key);
        }
        for subject in missing {
            found.entry(subject).or_insert(DataKey::Destroyed);
        }
        Ok(found)
    }

    async fn reference(&self, conn: &mut PgConnection, what: &str) -> Result<Vec<u8>, DomainError> {
        let DataKey::Live(key) = self.key_for(conn, INDEX_SUBJECT).await? else {
            return Err(anyhow::anyhow!("the reference key was destroyed").into());
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("the reference key is unusable"))?;
        mac.update(what.as_bytes());
        Ok(mac.finalize().into_bytes().to_vec())
    }

    fn seal_value(
        &self,
        key: &DataKey,
        subject: &str,
        field: &str,
        value: &Value,
    ) -> Result<Value, DomainError> {
        let DataKey::Live(key) = key else {
            return Ok(Value::String(ERASED.into()));
        };
        let plain = serde_json::to_vec(value).context("a personal value")?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher(key)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: aad(subject, field).as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing a personal value failed"))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        let mut out = Map::new();
        out.insert(SEALED.into(), Value::String(subject.to_owned()));
        out.insert(CIPHERTEXT.into(), Value::String(STANDARD.encode(blob)));
        Ok(Value::Object(out))
    }

    fn open_value(key: Option<&DataKey>, subject: &str, field: &str, ct: &str) -> Value {
        let erased = || Value::String(ERASED.into());
        let Some(DataKey::Live(key)) = key else {
            return erased();
        };
        let Ok(blob) = STANDARD.decode(ct) else {
            return erased();
        };
        if blob.len() < 12 + 16 {
            return erased();
        }
        let (nonce, sealed) = blob.split_at(12);
        cipher(key)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad(subject, field).as_bytes(),
                },
            )
            .ok()
            .and_then(|plain| serde_json::from_slice(&plain).ok())
            .unwrap_or_else(erased)
    }

    /// Seals `fields` of `metadata` under `subject`.
    async fn seal_fields(
        &self,
        conn: &mut PgConnection,
        metadata: &mut Map<String, Value>,
        fields: &[(&str, &str)],
        subject: &str,
    ) -> Result<(), DomainError> {
        let mut key = None;
        for (field, path) in fields {
            let Some(value) = metadata.get(*field) else {
                continue;
            };
            if value.is_null() || is_sealed(value) || value == ERASED {
                continue;
            }
            let key = match &key {
                Some(k) => k,
                None => key.insert(self.key_for(conn, subject).await?),
            };
            let sealed = self.seal_value(key, subject, path, value)?;
            metadata.insert((*field).to_owned(), sealed);
        }
        Ok(())
    }
}

fn is_sealed(value: &Value) -> bool {
    value.get(SEALED).is_some()
}

fn hex16(bytes: &[u8]) -> String {
    hex::encode(&bytes[..16.min(bytes.len())])
}

/// Who an entry is about, and who made it: the subjects its personal values go under.
fn plan(entry: &AuditEntry) -> (Option<String>, Option<String>) {
    use super::ActorType;
    let actor = match entry.actor_type {
        ActorType::User | ActorType::Operator => entry.actor_id.map(person_subject),
        _ => None,
    };
    let about = entry.resource.as_deref().and_then(|r| {
        let (kind, id) = r.split_once(':')?;
        if kind == "user" {
            Uuid::parse_str(id).ok().map(person_subject)
        } else if PERSONAL_RESOURCES.contains(&kind) {
            actor.clone()
        } else {
            None
        }
    });
    (actor, about)
}

/// Seals the personal values of a control-plane entry (its metadata already holds the
/// request's address and browser) and answers its address reference.
pub(crate) async fn seal_entry(
    conn: &mut PgConnection,
    entry: &mut AuditEntry,
) -> Result<IpRef, DomainError> {
    let sealer = sealer()?;
    // An entry about an address that is no account (a failed sign-in, a reset request) names
    // it by its reference; the address itself goes into the metadata, sealed.
    if let Some(email) = entry
        .resource
        .as_deref()
        .and_then(|r| r.strip_prefix("email:"))
        .filter(|e| e.contains('@'))
        .map(str::to_owned)
    {
        entry.resource = Some(email_subject(sealer, conn, &email).await?);
        entry
            .metadata
            .entry("email")
            .or_insert(Value::String(email));
    }
    let (actor, about) = plan(entry);
    let ip: Option<IpAddr> = entry
        .metadata
        .get("ip")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let ip_ref = match ip {
        Some(ip) => Some(sealer.reference(conn, &format!("ip:{ip}")).await?),
        None => None,
    };
    let ip_subject = ip_ref.as_deref().map(|r| format!("ip:{}", hex16(r)));
    let actor_subject = actor.clone().or(about.clone()).or(ip_subject);
    if let Some(subject) = &actor_subject {
        let fields: Vec<(&str, &str)> = ACTOR_FIELDS.iter().map(|f| (*f, *f)).collect();
        sealer
            .seal_fields(conn, &mut entry.metadata, &fields, subject)
            .await?;
    }
    match &about {
        Some(subject) => {
            let fields: Vec<(&str, &str)> = PERSON_FIELDS.iter().map(|f| (*f, *f)).collect();
            sealer
                .seal_fields(conn, &mut entry.metadata, &fields, subject)
                .await?;
        }
        None => {
            for field in EMAIL_FIELDS {
                let Some(email) = entry.metadata.get(*field).and_then(Value::as_str) else {
                    continue;
                };
                let subject = email_subject(sealer, conn, email).await?;
                sealer
                    .seal_fields(conn, &mut entry.metadata, &[(field, field)], &subject)
                    .await?;
            }
        }
    }
    Ok(IpRef {
        subject: ip_ref.as_ref().and(actor_subject),
        ip_ref,
    })
}

async fn email_subject(
    sealer: &Sealer,
    conn: &mut PgConnection,
    email: &str,
) -> Result<String, DomainError> {
    let reference = sealer
        .reference(conn, &format!("email:{}", email.trim().to_lowercase()))
        .await?;
    Ok(format!("email:{}", hex16(&reference)))
}

/// The subjects to destroy when a person is erased: their own and their address's.
pub(crate) async fn subjects_of_person(
    conn: &mut PgConnection,
    user_id: Uuid,
    emails: &[String],
) -> Result<Vec<String>, DomainError> {
    let sealer = sealer()?;
    let mut subjects = vec![person_subject(user_id)];
    for email in emails {
        subjects.push(email_subject(sealer, conn, email).await?);
    }
    Ok(subjects)
}

/// Seals an application's event: its actor's name, the address and the browser, under the
/// actor — the person when the application reports a Gatehouse user id or an email, else
/// a subject of the application's own actor id.
pub(crate) async fn seal_event(
    conn: &mut PgConnection,
    application_id: Uuid,
    metadata: &mut Map<String, Value>,
) -> Result<IpRef, DomainError> {
    let sealer = sealer()?;
    let actor_id = metadata
        .get("actor")
        .and_then(|a| a.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let subject = match actor_id.as_deref() {
        Some(id) => match Uuid::parse_str(id) {
            Ok(user) => person_subject(user),
            Err(_) if id.contains('@') => email_subject(sealer, conn, id).await?,
            Err(_) => {
                let r = sealer
                    .reference(conn, &format!("actor:{application_id}:{id}"))
                    .await?;
                format!("actor:{}", hex16(&r))
            }
        },
        None => "actor:unknown".to_owned(),
    };
    let ip: Option<IpAddr> = metadata
        .get("ip")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let ip_ref = match ip {
        Some(ip) => Some(sealer.reference(conn, &format!("ip:{ip}")).await?),
        None => None,
    };
    sealer
        .seal_fields(
            conn,
            metadata,
            &[("ip", "ip"), ("user_agent", "user_agent")],
            &subject,
        )
        .await?;
    if let Some(Value::Object(actor)) = metadata.get_mut("actor") {
        sealer
            .seal_fields(conn, actor, &[("name", "actor.name")], &subject)
            .await?;
    }
    Ok(IpRef {
        subject: ip_ref.as_ref().map(|_| subject),
        ip_ref,
    })
}

/// The reference of an address, to find the entries that hold it.
pub(crate) async fn ip_reference(
    conn: &mut PgConnection,
    ip: &str,
) -> Result<Vec<u8>, DomainError> {
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| anyhow::anyhow!("not an address: {ip}"))?;
    sealer()?.reference(conn, &format!("ip:{ip}")).await
}

/// Every sealed value in `metadata` (top level and the reported actor), with its field.
fn sealed_in(metadata: &Value) -> impl Iterator<Item = (String, &str)> {
    let top = metadata
        .as_object()
        .into_iter()
        .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v)));
    let actor = metadata
        .get("actor")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter().map(|(k, v)| (format!("actor.{k}"), v)));
    top.chain(actor)
        .filter_map(|(field, v)| Some((field, v.get(SEALED)?.as_str()?)))
}

/// Only the sealed values of `metadata` (and of its reported actor, under `actor`), still
/// sealed: what [`open_all`] turns into an entry's personal values.
pub fn sealed_only(metadata: &Value) -> Value {
    let pick = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter()
            .filter(|(_, v)| is_sealed(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let mut out = metadata.as_object().map(pick).unwrap_or_default();
    if let Some(Value::Object(actor)) = metadata.get("actor") {
        let actor = pick(actor);
        if !actor.is_empty() {
            out.insert("actor".into(), Value::Object(actor));
        }
    }
    Value::Object(out)
}

/// Opens the sealed values of each metadata in place: the plaintext, or `[erased]`.
pub async fn open_all<'e>(
    db: impl sqlx::PgExecutor<'e>,
    metadata: &mut [&mut Value],
) -> Result<(), DomainError> {
    let subjects: HashSet<String> = metadata
        .iter()
        .flat_map(|m| sealed_in(m).map(|(_, s)| s.to_owned()).collect::<Vec<_>>())
        .collect();
    if subjects.is_empty() {
        return Ok(());
    }
    let keys = sealer()?.keys_of(db, subjects).await?;
    for m in metadata.iter_mut() {
        open_in(m, &keys);
    }
    Ok(())
}

fn open_in(metadata: &mut Value, keys: &HashMap<String, DataKey>) {
    fn open_map(map: &mut Map<String, Value>, prefix: &str, keys: &HashMap<String, DataKey>) {
        for (field, value) in map.iter_mut() {
            let opened = match (
                value.get(SEALED).and_then(Value::as_str),
                value.get(CIPHERTEXT).and_then(Value::as_str),
            ) {
                (Some(subject), Some(ct)) => Some(Sealer::open_value(
                    keys.get(subject),
                    subject,
                    &format!("{prefix}{field}"),
                    ct,
                )),
                _ => None,
            };
            if let Some(opened) = opened {
                *value = opened;
            }
        }
    }
    if let Some(map) = metadata.as_object_mut() {
        open_map(map, "", keys);
        if let Some(Value::Object(actor)) = map.get_mut("actor") {
            open_map(actor, "actor.", keys);
        }
    }
}

/// Destroys the data keys of `subjects` and the address references filed under them, in
/// the caller's transaction; every instance hears of it when it commits (NOTIFY), and the
/// caller drops them from its own cache at once ([`forget`]).
pub(crate) async fn destroy(
    conn: &mut PgConnection,
    subjects: &[String],
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO subject_keys (subject, sealed_key, destroyed_at)
         SELECT s, NULL, now() FROM unnest($1::text[]) AS s
         ON CONFLICT (subject) DO UPDATE SET sealed_key = NULL, destroyed_at = now()",
    )
    .bind(subjects)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM audit_ip_refs WHERE subject = ANY($1)")
        .bind(subjects)
        .execute(&mut *conn)
        .await?;
    for subject in subjects {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(ERASED_CHANNEL)
            .bind(subject)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ActorType;

    #[test]
    fn an_entry_about_a_person_is_theirs_and_its_address_is_its_actors() {
        let admin = Uuid::now_v7();
        let person = Uuid::now_v7();
        let e = AuditEntry::new("user.update")
            .actor(ActorType::User, Some(admin))
            .resource(format!("user:{person}"));
        assert_eq!(
            plan(&e),
            (Some(person_subject(admin)), Some(person_subject(person)))
        );
        let own = AuditEntry::new("auth.mfa.removed")
            .actor(ActorType::User, Some(person))
            .resource("passkey:abc");
        assert_eq!(plan(&own).1, Some(person_subject(person)));
        let shared = AuditEntry::new("flag.update")
            .actor(ActorType::User, Some(admin))
            .resource("flag:beta");
        assert_eq!(plan(&shared).1, None);
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_reads_erased_without() {
        let ring = secrecy::SecretString::from(format!("k={}", STANDARD.encode([1u8; 32])));
        let sealer = Sealer::new(MasterKeys::parse(&ring).unwrap(), false);
        let key = DataKey::Live([9u8; 32]);
        let sealed = sealer
            .seal_value(&key, "user:x", "email", &Value::from("ann@example.com"))
            .unwrap();
        assert!(!sealed.to_string().contains("ann@"));
        let mut meta = serde_json::json!({ "email": sealed, "role": "admin" });
        let keys = HashMap::from([("user:x".to_owned(), key)]);
        let mut erased = meta.clone();
        open_in(&mut meta, &keys);
        assert_eq!(meta["email"], "ann@example.com");
        assert_eq!(meta["role"], "admin");
        open_in(
            &mut erased,
            &HashMap::from([("user:x".to_owned(), DataKey::Destroyed)]),
        );
        assert_eq!(erased["email"], ERASED);
    }

    #[test]
    fn a_value_moved_to_another_field_does_not_open() {
        let ring = secrecy::SecretString::from(format!("k={}", STANDARD.encode([1u8; 32])));
        let sealer = Sealer::new(MasterKeys::parse(&ring).unwrap(), false);
        let key = DataKey::Live([9u8; 32]);
        let sealed = sealer
            .seal_value(&key, "user:x", "email", &Value::from("ann@example.com"))
            .unwrap();
        let mut meta = serde_json::json!({ "name": sealed });
        open_in(&mut meta, &HashMap::from([("user:x".to_owned(), key)]));
        assert_eq!(meta["name"], ERASED);
    }
}
