//! Per-tenant password policy (CON-SEC-001, FR-AUTH-006, SPEC §3): minimum length (default
//! 12, floor 8), required character classes, a minimum zxcvbn strength score, refusal of
//! passwords in a bundled common-password list and of the last N passwords of the account.
//!
//! The policy lives as JSON in `tenants.password_policy` (missing keys take the defaults);
//! platform users (operators, auditors) have no tenant and always get the default policy.
//! It is applied wherever a password is chosen: at account creation ([`crate::users`]),
//! invitation acceptance, reset and change (all through [`set_password`]).
//!
//! Strength is estimated by the `zxcvbn` crate. The common-password list is a plain text
//! file (`domain/data/common-passwords.txt`, MIT-licensed, source in its header) compiled
//! into the binary, so the check works offline and never sends a password anywhere.

use crate::error::FieldError;
use crate::passwords::{hash_password, verify_password};
use crate::DomainError;
use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::collections::HashSet;
use std::sync::LazyLock;
use uuid::Uuid;

/// No policy may allow passwords shorter than this (SPEC §3 floor).
pub const MIN_LENGTH_FLOOR: u32 = 8;
/// The largest minimum length a tenant may require.
pub const MIN_LENGTH_CEILING: u32 = 128;
/// The highest zxcvbn score (0..=4).
pub const MAX_STRENGTH: u8 = 4;
/// The most previous passwords a tenant may refuse to see reused; also how many history
/// rows are kept per account.
pub const MAX_HISTORY: u32 = 24;
/// Longer passwords are refused before anything hashes them: argon2 cost grows with the
/// input, so an unbounded password is a cheap denial of service.
pub const MAX_PASSWORD_CHARS: usize = 1024;

const FIELD_NAMES: [&str; 7] = [
    "min_length",
    "require_upper",
    "require_lower",
    "require_digit",
    "require_symbol",
    "min_strength",
    "history",
];

/// A tenant's password rules (CON-SEC-001). Deserializing is strict about unknown keys so an
/// admin's typo (`"min_lenght"`) is an error rather than a silently ignored rule; missing
/// keys take the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum number of characters (Unicode scalar values, not bytes), 8..=128.
    pub min_length: u32,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    /// Anything that is neither a letter nor a digit counts, a space included (OWASP).
    pub require_symbol: bool,
    /// Minimum zxcvbn score, 0..=4; 0 turns the estimate off.
    pub min_strength: u8,
    /// How many previous passwords may not be reused, 0..=24.
    pub history: u32,
}

impl Default for PasswordPolicy {
    /// SPEC §3 defaults: 12 characters, no class rules (length and the strength estimate
    /// protect better than composition rules), zxcvbn score 3, the last 5 passwords.
    fn default() -> Self {
        Self {
            min_length: 12,
            require_upper: false,
            require_lower: false,
            require_digit: false,
            require_symbol: false,
            min_strength: 3,
            history: 5,
        }
    }
}

impl PasswordPolicy {
    /// Parses a policy an admin submitted (JSON object) and checks its bounds: unknown keys
    /// and wrong types are refused, missing keys take the defaults.
    pub fn parse_input(input: &serde_json::Value) -> Result<Self, DomainError> {
        let policy: Self = serde_json::from_value(input.clone())
            .map_err(|e| DomainError::validation("password_policy", e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks the bounds before a policy is stored, one field error per violation.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if !(MIN_LENGTH_FLOOR..=MIN_LENGTH_CEILING).contains(&self.min_length) {
            errors.push(FieldError::new(
                "min_length",
                format!("must be between {MIN_LENGTH_FLOOR} and {MIN_LENGTH_CEILING} characters"),
            ));
        }
        if self.min_strength > MAX_STRENGTH {
            errors.push(FieldError::new(
                "min_strength",
                format!("must be between 0 and {MAX_STRENGTH}"),
            ));
        }
        if self.history > MAX_HISTORY {
            errors.push(FieldError::new(
                "history",
                format!("must be between 0 and {MAX_HISTORY} passwords"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }

    /// Reads the policy stored in `tenants.password_policy`. Unlike admin input this is
    /// lenient: a key it does not know (written by a newer version or by hand) is ignored,
    /// and out-of-range values are brought within bounds, because refusing every password
    /// change of a tenant would be worse — but a value of the wrong type is an error rather
    /// than a silent fallback to a weaker default.
    pub fn from_stored(stored: &serde_json::Value) -> Result<Self, DomainError> {
        let mut object = stored
            .as_object()
            .cloned()
            .context("tenants.password_policy is not a JSON object")?;
        object.retain(|key, _| {
            let known = FIELD_NAMES.contains(&key.as_str());
            if !known {
                tracing::warn!(%key, "ignoring unknown key in a stored password policy");
            }
            known
        });
        let policy: Self = serde_json::from_value(serde_json::Value::Object(object))
            .context("tenants.password_policy has a value of the wrong type")?;
        Ok(policy.within_bounds())
    }

    fn within_bounds(self) -> Self {
        Self {
            min_length: self.min_length.clamp(MIN_LENGTH_FLOOR, MIN_LENGTH_CEILING),
            min_strength: self.min_strength.min(MAX_STRENGTH),
            history: self.history.min(MAX_HISTORY),
            ..self
        }
    }

    /// The rules in words, for the hint beside a new-password field.
    pub fn requirements(&self) -> Vec<String> {
        let mut rules = vec![format!(
            "at least {} characters",
            self.min_length.max(MIN_LENGTH_FLOOR)
        )];
        for (required, what) in [
            (self.require_upper, "an uppercase letter"),
            (self.require_lower, "a lowercase letter"),
            (self.require_digit, "a digit"),
            (self.require_symbol, "a symbol"),
        ] {
            if required {
                rules.push(what.to_owned());
            }
        }
        rules.push("not a commonly used password".to_owned());
        if self.min_strength > 0 {
            rules.push("not easy to guess".to_owned());
        }
        match self.history {
            0 => {}
            1 => rules.push("not your last password".to_owned()),
            n => rules.push(format!("not one of your last {n} passwords")),
        }
        rules
    }

    /// Every rule `password` breaks, each as a sentence saying what is missing; empty when
    /// the password is acceptable. `user_inputs` (email, name, tenant name, ...) make
    /// zxcvbn score passwords built from them as weak. Reuse of old passwords needs the
    /// database and is checked by [`set_password`]. The sentences never contain the
    /// password.
    pub fn check(&self, password: &str, user_inputs: &[&str]) -> Vec<String> {
        let length = password.chars().count();
        if length > MAX_PASSWORD_CHARS {
            // Nothing else is worth estimating on an input this size.
            return vec![format!(
                "use at most {MAX_PASSWORD_CHARS} characters (this one has {length})"
            )];
        }
        let mut problems = Vec::new();
        // The floor holds even for a policy that skipped validate().
        let min_length = self.min_length.max(MIN_LENGTH_FLOOR) as usize;
        if length < min_length {
            problems.push(format!(
                "use at least {min_length} characters (this one has {length})"
            ));
        }
        if self.require_upper && !password.chars().any(char::is_uppercase) {
            problems.push("add an uppercase letter".to_owned());
        }
        if self.require_lower && !password.chars().any(char::is_lowercase) {
            problems.push("add a lowercase letter".to_owned());
        }
        if self.require_digit && !password.chars().any(char::is_numeric) {
            problems.push("add a digit".to_owned());
        }
        if self.require_symbol && !password.chars().any(|c| !c.is_alphanumeric()) {
            problems.push("add a symbol, such as ! # % or a space".to_owned());
        }
        if is_common_password(password) {
            problems.push("this password is in a list of commonly used passwords".to_owned());
        }
        if self.min_strength > 0 {
            // The crate itself looks at no more than the first 100 characters.
            let estimate = zxcvbn::zxcvbn(password, user_inputs);
            if u8::from(estimate.score()) < self.min_strength.min(MAX_STRENGTH) {
                problems.push(too_easy_to_guess(estimate.feedback()));
            }
        }
        problems
    }
}

fn too_easy_to_guess(feedback: Option<&zxcvbn::feedback::Feedback>) -> String {
    let advice = feedback.map(ToString::to_string).unwrap_or_default();
    let advice = advice.trim();
    if advice.is_empty() {
        // zxcvbn gives feedback only for scores up to 2; a policy asking for 4 may refuse a
        // 3 without any.
        return "too easy to guess: make it longer, for example with another uncommon word"
            .to_owned();
    }
    let mut chars = advice.chars();
    let first = chars.next().map(|c| c.to_lowercase().to_string());
    format!(
        "too easy to guess: {}{}",
        first.unwrap_or_default(),
        chars.as_str()
    )
}

fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        noun.to_owned()
    } else {
        format!("{n} {noun}s")
    }
}

/// The bundled list, lowercased; `#` lines are the header (source and license).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// True when the password, ignoring case, is in the bundled common-password list.
pub fn is_common_password(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

/// The words a person's password should not be built from, for zxcvbn: the email address,
/// its local part, the name and the tenant's name and slug — whole and word by word
/// (words of three letters or more), lowercased, without duplicates. The top-level domain
/// of the address is left out; it says nothing about the person.
pub fn user_inputs(
    email: &str,
    name: Option<&str>,
    tenant_name: Option<&str>,
    tenant_domain: Option<&str>,
) -> Vec<String> {
    let mut inputs: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        let s = s.trim().to_lowercase();
        if !s.is_empty() && !inputs.contains(&s) {
            inputs.push(s);
        }
    };
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let domain_labels = domain.rsplit_once('.').map_or(domain, |(rest, _tld)| rest);
    let mut wholes = vec![email, local];
    wholes.extend(name);
    wholes.extend(tenant_name);
    wholes.extend(tenant_domain);
    for whole in &wholes {
        add(whole);
    }
    for text in [local, domain_labels]
        .into_iter()
        .chain(name)
        .chain(tenant_name)
        .chain(tenant_domain)
    {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.chars().count() >= 3 {
                add(word);
            }
        }
    }
    inputs
}

/// Checks a new password against `policy`, before there is (or without needing) a user
/// row. Each violation becomes a `FieldError("password", ...)`. History is not checked
/// here — see [`set_password`].
pub fn check_new_password(
    policy: &PasswordPolicy,
    password: &SecretString,
    user_inputs: &[impl AsRef<str>],
) -> Result<(), DomainError> {
    let inputs: Vec<&str> = user_inputs.iter().map(AsRef::as_ref).collect();
    let problems = policy.check(password.expose_secret(), &inputs);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(
            problems
                .into_iter()
                .map(|message| FieldError::new("password", message))
                .collect(),
        ))
    }
}

/// [`check_new_password`] on the blocking pool: zxcvbn can spend hundreds of milliseconds
/// on a crafted 100-character input, which must not stall the async runtime.
pub(crate) async fn check_new_password_off_runtime(
    policy: PasswordPolicy,
    password: SecretString,
    user_inputs: Vec<String>,
) -> Result<(), DomainError> {
    tokio::task::spawn_blocking(move || check_new_password(&policy, &password, &user_inputs))
        .await
        .context("password policy check failed")?
}

/// The policy and zxcvbn user inputs for an account about to be created (no row yet).
#[tracing::instrument(skip_all, fields(tenant_id = ?tenant_id))]
pub async fn policy_for_new_user(
    conn: &mut PgConnection,
    tenant_id: Option<Uuid>,
    email: &str,
    name: Option<&str>,
) -> Result<(PasswordPolicy, Vec<String>), DomainError> {
    let Some(tenant_id) = tenant_id else {
        return Ok((
            PasswordPolicy::default(),
            user_inputs(email, name, None, None),
        ));
    };
    let (tenant_name, tenant_domain, stored): (String, String, serde_json::Value) =
        sqlx::query_as("SELECT name, domain, password_policy FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(DomainError::NotFound("tenant"))?;
    Ok((
        PasswordPolicy::from_stored(&stored)?,
        user_inputs(email, name, Some(&tenant_name), Some(&tenant_domain)),
    ))
}

/// The policy that applies to an existing account (its tenant's, or the default for
/// platform users) and the zxcvbn user inputs from its email, name and tenant.
#[tracing::instrument(skip(conn))]
pub async fn policy_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(PasswordPolicy, Vec<String>), DomainError> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<serde_json::Value>,
    );
    let (email, name, tenant_name, tenant_domain, stored): Row = sqlx::query_as(
        "SELECT u.email, u.name, t.name, t.domain, t.password_policy
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound("user"))?;
    let policy = match &stored {
        Some(stored) => PasswordPolicy::from_stored(stored)?,
        None => PasswordPolicy::default(),
    };
    let inputs = user_inputs(
        &email,
        name.as_deref(),
        tenant_name.as_deref(),
        tenant_domain.as_deref(),
    );
    Ok((policy, inputs))
}

/// What a new password for this user must be, as phrases for a hint beside the field.
pub async fn requirements_for_user(
    pool: &sqlx::PgPool,
    user_id: Uuid,
) -> Result<Vec<String>, DomainError> {
    let mut conn = pool.acquire().await?;
    Ok(policy_for_user(&mut conn, user_id).await?.0.requirements())
}

/// Sets an account's password inside the caller's transaction, after checking it against
/// the account's policy (one `FieldError("password", ...)` per broken rule) and against its
/// last `history` passwords (CON-SEC-001). Updates `users.password_hash`, records the hash
/// in `password_history` and keeps at most the newest 24 rows there.
///
/// Writes no audit entry: the caller knows why the password changes and records
/// `auth.password.change`, `auth.password.reset` or the invitation acceptance in the same
/// transaction. Nor does it end sessions — that is the caller's business too.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    password: &SecretString,
) -> Result<(), DomainError> {
    // Locking the account serialises concurrent changes, so each sees the other's history.
    let current: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
    let (policy, inputs) = policy_for_user(conn, user_id).await?;
    let history = policy.history;
    check_new_password_off_runtime(policy, password.clone(), inputs).await?;

    if history > 0 {
        let recent: Vec<String> = sqlx::query_scalar(
            "SELECT password_hash FROM password_history WHERE user_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::from(history))
        .fetch_all(&mut *conn)
        .await?;
        // The current password is the newest of all, even where no history row holds it
        // (e.g. an account whose hash was set before history was kept).
        let mut previous: Vec<String> = current.into_iter().collect();
        for hash in recent {
            if !previous.contains(&hash) {
                previous.push(hash);
            }
        }
        previous.truncate(history as usize);
        for hash in previous {
            if verify_password(Some(hash), password).await? {
                return Err(DomainError::validation(
                    "password",
                    format!(
                        "you used this password recently; choose one you have not used for \
                         your last {}",
                        plural(history, "password")
                    ),
                ));
            }
        }
    }

    let hash = hash_password(password).await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)")
        .bind(user_id)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (
             SELECT id FROM password_history WHERE user_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2)",
    )
    .bind(user_id)
    .bind(i64::from(MAX_HISTORY))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn relaxed() -> PasswordPolicy {
        // Only the rule under test speaks.
        PasswordPolicy {
            min_length: 8,
            min_strength: 0,
            history: 0,
            ..PasswordPolicy::default()
        }
    }

    #[test]
    fn defaults_follow_the_spec() {
        // CON-SEC-001 / SPEC §3: 12 characters, strength 3, last 5 passwords.
        let p = PasswordPolicy::default();
        assert_eq!(p.min_length, 12);
        assert_eq!(p.min_strength, 3);
        assert_eq!(p.history, 5);
        assert!(!p.require_upper && !p.require_lower && !p.require_digit && !p.require_symbol);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn missing_keys_take_the_defaults() {
        let empty: PasswordPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, PasswordPolicy::default());
        let partial: PasswordPolicy =
            serde_json::from_str(r#"{"min_length": 16, "require_digit": true}"#).unwrap();
        assert_eq!(
            partial,
            PasswordPolicy {
                min_length: 16,
                require_digit: true,
                ..PasswordPolicy::default()
            }
        );
        // And round-trips as stored JSON.
        let stored = serde_json::to_value(&partial).unwrap();
        assert_eq!(PasswordPolicy::from_stored(&stored).unwrap(), partial);
    }

    #[test]
    fn admin_input_refuses_unknown_keys_wrong_types_and_out_of_bounds() {
        let err = PasswordPolicy::parse_input(&json!({"min_lenght": 10})).unwrap_err();
        match err {
            DomainError::Validation(errors) => {
                assert_eq!(errors[0].field, "password_policy");
                assert!(errors[0].message.contains("min_lenght"), "{errors:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(PasswordPolicy::parse_input(&json!({"min_length": "ten"})).is_err());
        assert!(PasswordPolicy::parse_input(&json!({"min_length": 7})).is_err());
        let ok = PasswordPolicy::parse_input(&json!({"min_length": 20, "history": 0})).unwrap();
        assert_eq!((ok.min_length, ok.history, ok.min_strength), (20, 0, 3));
    }

    #[test]
    fn validate_names_each_field_out_of_bounds() {
        let at_bounds = [(8, 0, 0), (128, 4, 24)];
        for (min_length, min_strength, history) in at_bounds {
            let p = PasswordPolicy {
                min_length,
                min_strength,
                history,
                ..PasswordPolicy::default()
            };
            assert!(p.validate().is_ok(), "{p:?}");
        }
        let beyond = PasswordPolicy {
            min_length: 7,
            min_strength: 5,
            history: 25,
            ..PasswordPolicy::default()
        };
        match beyond.validate().unwrap_err() {
            DomainError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["min_length", "min_strength", "history"]);
                assert_eq!(errors[0].message, "must be between 8 and 128 characters");
                assert_eq!(errors[1].message, "must be between 0 and 4");
                assert_eq!(errors[2].message, "must be between 0 and 24 passwords");
            }
            other => panic!("{other:?}"),
        }
        let too_long = PasswordPolicy {
            min_length: 129,
            ..PasswordPolicy::default()
        };
        assert!(too_long.validate().is_err());
    }

    #[test]
    fn stored_policies_are_read_leniently_but_within_bounds() {
        let stored =
            json!({"min_length": 4, "min_strength": 9, "history": 99, "future_rule": true});
        let p = PasswordPolicy::from_stored(&stored).unwrap();
        assert_eq!((p.min_length, p.min_strength, p.history), (8, 4, 24));
        // A wrong type is an error, not a silent fallback to a weaker default.
        assert!(PasswordPolicy::from_stored(&json!({"min_length": "long"})).is_err());
        assert!(PasswordPolicy::from_stored(&json!([])).is_err());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let p = PasswordPolicy {
            min_length: 9,
            ..relaxed()
        };
        // 8 characters, 12 bytes.
        assert_eq!(
            p.check("pässwörd", &[]),
            ["use at least 9 characters (this one has 8)"]
        );
        assert!(p.check("pässwörds", &[]).is_empty());
        // Emoji and CJK: one character each.
        assert_eq!(
            p.check("🔑🔑🔑🔑🔑🔑🔑🔑", &[]),
            ["use at least 9 characters (this one has 8)"]
        );
        assert!(p.check("長い合言葉を使います", &[]).is_empty());
    }

    #[test]
    fn the_floor_holds_even_for_an_unvalidated_policy() {
        let p = PasswordPolicy {
            min_length: 2,
            ..relaxed()
        };
        assert_eq!(
            p.check("zq7#", &[]),
            ["use at least 8 characters (this one has 4)"]
        );
    }

    #[test]
    fn overlong_passwords_are_refused_before_anything_else() {
        let p = PasswordPolicy::default();
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            p.check(&long, &[]),
            ["use at most 1024 characters (this one has 1025)"]
        );
        // Counted in characters: 1024 two-byte characters are allowed by the length rule.
        let wide: String = "ü".repeat(MAX_PASSWORD_CHARS);
        assert!(!relaxed()
            .check(&wide, &[])
            .iter()
            .any(|m| m.contains("at most")));
    }

    #[test]
    fn each_character_class_rule_says_what_is_missing() {
        let p = PasswordPolicy {
            require_upper: true,
            require_lower: true,
            require_digit: true,
            require_symbol: true,
            ..relaxed()
        };
        assert_eq!(
            p.check("qqqqqqqqqq", &[]),
            [
                "add an uppercase letter",
                "add a digit",
                "add a symbol, such as ! # % or a space"
            ]
        );
        assert_eq!(
            p.check("QQQQQQQQQQ", &[]),
            [
                "add a lowercase letter",
                "add a digit",
                "add a symbol, such as ! # % or a space"
            ]
        );
        assert_eq!(p.check("Qq########", &[]), ["add a digit"]);
        assert!(p.check("Qq7#qqqqqq", &[]).is_empty());
        // A space is a symbol; Unicode letters have case too.
        assert!(p.check("Äöx 7xxxxx", &[]).is_empty());
        // Off by default: a password without classes passes them.
        assert!(relaxed().check("qqqqqqqqqq", &[]).is_empty());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(
            relaxed().check("ISeeDeadPeople", &[]),
            ["this password is in a list of commonly used passwords"]
        );
        assert!(is_common_password("PASSWORD1"));
        assert!(is_common_password("qwerty123"));
        assert!(!is_common_password("Blue-Otter-Sings-7"));
    }

    #[test]
    fn the_bundled_list_is_large_lowercase_and_skips_its_header() {
        assert!(
            COMMON_PASSWORDS.len() >= 10_000,
            "{}",
            COMMON_PASSWORDS.len()
        );
        assert!(COMMON_PASSWORDS
            .iter()
            .all(|p| *p == p.to_lowercase() && !p.starts_with('#') && p.chars().count() >= 8));
        assert!(!COMMON_PASSWORDS.iter().any(|p| p.contains("license")));
    }

    #[test]
    fn weak_passwords_are_too_easy_to_guess_with_zxcvbn_advice() {
        let p = PasswordPolicy {
            min_strength: 3,
            ..relaxed()
        };
        let problems = p.check("aaaaaaaaaaaaaaaa", &[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("too easy to guess: repeats like \"aaa\" are easy to guess."),
            "{problems:?}"
        );
        let problems = p.check("abcdefghijkl", &[]);
        assert!(
            problems[0].starts_with("too easy to guess: sequences like abc"),
            "{problems:?}"
        );
        // Score 3 passes a policy asking for 3 but not one asking for 4, which has no
        // zxcvbn feedback to pass on.
        let strict = PasswordPolicy {
            min_strength: 4,
            ..relaxed()
        };
        let (password, inputs) = ("Quillfeather-Globex", ["quillfeather", "globex"]);
        assert!(p.check(password, &inputs).is_empty());
        assert_eq!(
            strict.check(password, &inputs),
            ["too easy to guess: make it longer, for example with another uncommon word"]
        );
        // Strength 0 turns the estimate off.
        assert!(relaxed().check("aaaaaaaaaaaaaaaa", &[]).is_empty());
    }

    #[test]
    fn passwords_built_from_the_persons_details_score_low() {
        let inputs = user_inputs(
            "xavier.quillfeather@acme.test",
            Some("Xavier Quillfeather"),
            Some("Acme Corporation"),
            Some("acme"),
        );
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let p = PasswordPolicy::default();
        assert!(p.check("xavierquillfeather", &[]).is_empty());
        let problems = p.check("xavierquillfeather", &inputs);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("too easy to guess"), "{problems:?}");
    }

    #[test]
    fn user_inputs_hold_the_whole_values_and_their_words() {
        assert_eq!(
            user_inputs(
                "Ada.Lovelace@acme.co.uk",
                Some("Ada Lovelace"),
                Some("Acme Corporation"),
                Some("acme")
            ),
            [
                "ada.lovelace@acme.co.uk",
                "ada.lovelace",
                "ada lovelace",
                "acme corporation",
                "acme",
                "ada",
                "lovelace",
                "corporation",
            ]
        );
        assert_eq!(
            user_inputs("ops@example.test", None, None, None),
            ["ops@example.test", "ops", "example"]
        );
    }

    #[test]
    fn the_demo_and_test_passwords_pass_the_default_policy() {
        // Passwords used by the demo data, the CLI smoke test and the db tests, with the
        // inputs their accounts give zxcvbn.
        let p = PasswordPolicy::default();
        let cases = [
            (
                "Gatehouse-demo-2026",
                user_inputs("operator@gatehouse.test", Some("Demo operator"), None, None),
            ),
            (
                "Gatehouse-demo-2026",
                user_inputs(
                    "owner@acme.test",
                    Some("Demo owner"),
                    Some("Acme Corporation"),
                    Some("acme"),
                ),
            ),
            (
                "a long operator passphrase",
                user_inputs("ops-1@example.test", Some("CI Operator"), None, None),
            ),
            (
                "correct horse battery staple",
                user_inputs("ada@acme.test", None, Some("Tenant acme"), Some("acme")),
            ),
            (
                "a different passphrase",
                user_inputs(
                    "sam@example.com",
                    None,
                    Some("Tenant initech"),
                    Some("initech"),
                ),
            ),
        ];
        for (password, inputs) in cases {
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            assert_eq!(
                p.check(password, &inputs),
                Vec::<String>::new(),
                "{password}"
            );
        }
    }

    #[test]
    fn requirements_describe_the_policy_in_words() {
        assert_eq!(
            PasswordPolicy::default().requirements(),
            [
                "at least 12 characters",
                "not a commonly used password",
                "not easy to guess",
                "not one of your last 5 passwords"
            ]
        );
        let p = PasswordPolicy {
            require_upper: true,
            require_symbol: true,
            history: 1,
            ..relaxed()
        };
        assert_eq!(
            p.requirements(),
            [
                "at least 8 characters",
                "an uppercase letter",
                "a symbol",
                "not a commonly used password",
                "not your last password"
            ]
        );
    }

    #[test]
    fn check_new_password_reports_each_violation_on_the_password_field() {
        let p = PasswordPolicy {
            require_digit: true,
            ..PasswordPolicy::default()
        };
        let err =
            check_new_password(&p, &SecretString::from("zebra".to_owned()), &["x"]).unwrap_err();
        match err {
            DomainError::Validation(errors) => {
                assert!(errors.len() >= 3, "{errors:?}");
                assert!(errors.iter().all(|e| e.field == "password"));
                assert_eq!(
                    errors[0].message,
                    "use at least 12 characters (this one has 5)"
                );
                assert_eq!(errors[1].message, "add a digit");
                // Never echoes the password.
                assert!(errors.iter().all(|e| !e.message.contains("zebra")));
            }
            other => panic!("{other:?}"),
        }
        let fine = SecretString::from("Blue-Otter-Sings-7".to_owned());
        assert!(check_new_password(&p, &fine, &Vec::<String>::new()).is_ok());
    }
}
