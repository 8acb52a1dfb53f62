//! Validated newtypes and enums. Input becomes one of these at the edge, so the rest of
//! the domain never re-checks a raw string. Enums parse case-insensitively and are stored
//! and returned lowercase (SPEC §9).

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        $(#[$doc])*
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Trims, normalises and validates; the error names the field.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let check: fn(&str) -> Result<String, String> = $check;
                check(raw.trim()).map(Self).map_err(|msg| DomainError::validation($field, msg))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(|_| serde::de::Error::custom(concat!("invalid ", $field)))
            }
        }
    };
}

fn slug_like(s: &str, max: usize, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && b.len() <= max && first(b[0]) && b[1..].iter().all(|c| rest(*c))
}

string_newtype!(
    /// An email address (RFC 5322 addr-spec as checked by `email_address`), at most 254
    /// characters. The case is kept; comparisons are case-insensitive in the database.
    #[schema(format = Email, max_length = 254)]
    Email,
    "email",
    |s| {
        if s.is_empty() {
            return Err("an email address is required".into());
        }
        if s.len() > 254 {
            return Err("an email address has at most 254 characters".into());
        }
        if !email_address::EmailAddress::is_valid(s) || !s.contains('@') || s.starts_with('"') {
            return Err(format!("'{s}' is not a valid email address"));
        }
        Ok(s.to_owned())
    }
);

impl Email {
    /// The part after the last `@`, lowercased: the domain SSO routing looks up.
    pub fn domain(&self) -> String {
        self.0
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

string_newtype!(
    /// An email domain a tenant claims (SSO routing): a lowercase DNS name of at least two
    /// labels, each 1-63 characters of a-z, 0-9 and '-'.
    #[schema(format = Hostname)]
    EmailDomain,
    "domain",
    |s| {
        let s = s.trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        };
        let labels: Vec<&str> = s.split('.').collect();
        if s.len() <= 253 && labels.len() >= 2 && labels.iter().all(|l| label_ok(l)) {
            Ok(s)
        } else {
            Err("an email domain is a DNS name such as example.com".into())
        }
    }
);

string_newtype!(
    /// A tenant's unique slug: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$` (SPEC §2).
    /// Upper case input is accepted and lowered.
    #[schema(pattern = "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    TenantDomain,
    "domain",
    |s| {
        let s = s.to_ascii_lowercase();
        let ok = slug_like(&s, 63, |c| c.is_ascii_lowercase() || c.is_ascii_digit(), |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
        }) && !s.ends_with('-');
        if ok {
            Ok(s)
        } else {
            Err("a domain is 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit".into())
        }
    }
);

string_newtype!(
    /// A feature flag key: `^[a-z][a-z0-9_]{0,63}$` (SPEC §6).
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    FlagKey,
    "key",
    |s| {
        if slug_like(s, 64, |c| c.is_ascii_lowercase(), |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            Ok(s.to_owned())
        } else {
            Err("a flag key starts with a-z and continues with up to 63 of a-z, 0-9 and '_'".into())
        }
    }
);

string_newtype!(
    /// A billing event type: `^[a-z][a-z0-9_.]{0,63}$` (SPEC §7).
    #[schema(pattern = "^[a-z][a-z0-9_.]{0,63}$")]
    EventType,
    "event_type",
    |s| {
        if slug_like(s, 64, |c| c.is_ascii_lowercase(), |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'.') {
            Ok(s.to_owned())
        } else {
            Err("an event type starts with a-z and continues with up to 63 of a-z, 0-9, '_' and '.'".into())
        }
    }
);

string_newtype!(
    /// A display name (tenant or user): 1-200 characters after trimming, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    DisplayName,
    "name",
    |s| {
        if s.is_empty() {
            return Err("a name is required".into());
        }
        if s.chars().count() > 200 {
            return Err("a name has at most 200 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("a name cannot contain control characters".into());
        }
        Ok(s.to_owned())
    }
);

macro_rules! lowercase_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        $(#[$doc])*
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Case-insensitive; the error lists the accepted values.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let lower = raw.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::validation(
                        $field,
                        format!("must be one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

lowercase_enum!(
    /// DAT-ROLE: tenant roles and platform roles (SPEC §2).
    Role, "role", { Owner => "owner", Admin => "admin", User => "user", Operator => "operator", Auditor => "auditor" }
);

impl Role {
    pub fn is_platform(self) -> bool {
        matches!(self, Role::Operator | Role::Auditor)
    }
}

lowercase_enum!(Plan, "plan", { Free => "free", Pro => "pro", Enterprise => "enterprise" });
lowercase_enum!(TenantStatus, "status", { Active => "active", Suspended => "suspended" });
lowercase_enum!(UserStatus, "status", { Invited => "invited", Active => "active", Disabled => "disabled", Archived => "archived" });
lowercase_enum!(MfaPolicy, "mfa_policy", { Off => "off", Admins => "admins", Everyone => "everyone" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_accepts_addresses_and_rejects_garbage() {
        assert_eq!(
            Email::parse("  Ada@Example.com ")
                .map(|e| e.into_inner())
                .ok(),
            Some("Ada@Example.com".into())
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@@example.com",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn tenant_domain_follows_the_slug_rule() {
        assert_eq!(
            TenantDomain::parse("ACME").map(|d| d.into_inner()).ok(),
            Some("acme".into())
        );
        for ok in ["a", "a1", "acme-corp", &"a".repeat(63)] {
            assert!(TenantDomain::parse(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac_me",
            "ac me",
            "äcme",
            &"a".repeat(64),
        ] {
            assert!(
                TenantDomain::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn flag_key_and_event_type() {
        assert!(FlagKey::parse("new_checkout").is_ok());
        assert!(FlagKey::parse(&format!("a{}", "b".repeat(63))).is_ok());
        for bad in [
            "",
            "1abc",
            "New",
            "a-b",
            "a.b",
            &format!("a{}", "b".repeat(64)),
        ] {
            assert!(FlagKey::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(EventType::parse("api.call").is_ok());
        assert!(EventType::parse("Api.call").is_err());
        assert!(EventType::parse(".x").is_err());
    }

    #[test]
    fn display_name_is_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Acme Inc ")
                .map(|n| n.into_inner())
                .ok(),
            Some("Acme Inc".into())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn enums_parse_case_insensitively_and_print_lowercase() {
        assert_eq!(Role::parse(" Owner ").ok(), Some(Role::Owner));
        assert_eq!(
            Plan::parse("ENTERPRISE").map(|p| p.as_str()).ok(),
            Some("enterprise")
        );
        let err = Role::parse("root").err();
        assert!(
            matches!(err, Some(DomainError::Validation(ref v)) if v[0].field == "role" && v[0].message.contains("owner"))
        );
        assert!(Role::Operator.is_platform() && !Role::Admin.is_platform());
    }

    #[test]
    fn newtypes_deserialize_through_validation() {
        let d: Result<TenantDomain, _> = serde_json::from_str("\"Acme\"");
        assert_eq!(d.ok().map(|d| d.into_inner()), Some("acme".into()));
        let bad: Result<Email, _> = serde_json::from_str("\"nope\"");
        assert!(bad.is_err());
    }
}
