//! Revocation that takes effect at once (SPEC §2, §4).
//!
//! Access tokens are JWTs checked without a database round trip, so what revokes them must
//! be known in memory by every server: a [`Denylist`] of token cutoffs (tokens of a
//! subject issued at or before a moment are dead), revoked token ids and suspended
//! tenants. It is loaded from Postgres and kept coherent through `NOTIFY gatehouse_tokens`,
//! sent in the same transaction as the change: when the change commits, every server
//! hears it.
//!
//! Cutoffs and revoked ids are kept only as long as a token they refuse could still be
//! alive (the access-token lifetime plus skew), so the set stays small.

use crate::DomainError;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// NOTIFY channel for denials and client changes.
pub const CHANNEL: &str = "gatehouse_tokens";

/// How long a cutoff or a revoked id is kept: longer than any access token lives.
pub const RETENTION: Duration = Duration::minutes(70);

/// Whose tokens a cutoff ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Tenant(Uuid),
    User(Uuid),
    Application(Uuid),
    /// An API key (OAuth client).
    Client(String),
    /// An application's tokens for one tenant (the tenant was taken off it).
    ApplicationTenant(Uuid, Uuid),
}

impl Subject {
    fn kind(&self) -> &'static str {
        match self {
            Subject::Tenant(_) => "tenant",
            Subject::User(_) => "user",
            Subject::Application(_) => "application",
            Subject::Client(_) => "client",
            Subject::ApplicationTenant(..) => "application_tenant",
        }
    }

    fn id(&self) -> String {
        match self {
            Subject::Tenant(id) | Subject::User(id) | Subject::Application(id) => id.to_string(),
            Subject::Client(id) => id.clone(),
            Subject::ApplicationTenant(app, tenant) => format!("{app}/{tenant}"),
        }
    }

    fn from_parts(kind: &str, id: &str) -> Option<Subject> {
        Some(match kind {
            "tenant" => Subject::Tenant(id.parse().ok()?),
            "user" => Subject::User(id.parse().ok()?),
            "application" => Subject::Application(id.parse().ok()?),
            "client" => Subject::Client(id.to_owned()),
            "application_tenant" => {
                let (app, tenant) = id.split_once('/')?;
                Subject::ApplicationTenant(app.parse().ok()?, tenant.parse().ok()?)
            }
            _ => return None,
        })
    }
}

async fn notify(conn: &mut PgConnection, payload: &str) -> Result<(), DomainError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Refuses every token of `subject` issued up to now, inside the caller's transaction.
pub async fn deny_tokens(conn: &mut PgConnection, subject: Subject) -> Result<(), DomainError> {
    let at: OffsetDateTime = sqlx::query_scalar(
        "INSERT INTO oauth_token_cutoffs (subject_kind, subject_id, not_before) VALUES ($1, $2, now())
         ON CONFLICT (subject_kind, subject_id) DO UPDATE SET not_before = excluded.not_before
         RETURNING not_before",
    )
    .bind(subject.kind())
    .bind(subject.id())
    .fetch_one(&mut *conn)
    .await?;
    let payload = format!(
        "cutoff {} {} {}",
        subject.kind(),
        subject.id(),
        at.unix_timestamp()
    );
    notify(conn, &payload).await
}

/// Revokes single access tokens by id (RFC 7009, a revoked refresh-token family).
pub async fn revoke_access_tokens(
    conn: &mut PgConnection,
    tokens: &[(Uuid, OffsetDateTime)],
) -> Result<(), DomainError> {
    let live: Vec<&(Uuid, OffsetDateTime)> = tokens
        .iter()
        .filter(|(_, exp)| *exp > OffsetDateTime::now_utc())
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = live.iter().map(|t| t.0).collect();
    let exps: Vec<OffsetDateTime> = live.iter().map(|t| t.1).collect();
    sqlx::query(
        "INSERT INTO oauth_revoked_access_tokens (jti, expires_at)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ON CONFLICT DO NOTHING",
    )
    .bind(&ids)
    .bind(&exps)
    .execute(&mut *conn)
    .await?;
    // One notification per token; payloads stay far below NOTIFY's 8000-byte limit.
    for (jti, exp) in live {
        notify(conn, &format!("jti {jti} {}", exp.unix_timestamp())).await?;
    }
    Ok(())
}

/// Tells every server to drop its cached clients (a key or application changed).
pub async fn notify_clients_changed(conn: &mut PgConnection) -> Result<(), DomainError> {
    notify(conn, "clients").await
}

/// Tells every server to re-read which tenants are suspended.
pub async fn notify_tenants_changed(conn: &mut PgConnection) -> Result<(), DomainError> {
    notify(conn, "tenants").await
}

/// What a token is checked against, besides its signature and expiry.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts<'a> {
    pub jti: Uuid,
    pub issued_at: i64,
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub client_id: &'a str,
}

/// The in-memory view every server checks tokens against.
#[derive(Debug, Default, Clone)]
pub struct Denylist {
    cutoffs: HashMap<Subject, i64>,
    /// Revoked token id → its expiry (unix seconds).
    jtis: HashMap<Uuid, i64>,
    suspended_tenants: HashSet<Uuid>,
}

/// What a notification asks of the listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Notice {
    /// Applied to the denylist in place.
    Applied,
    /// Cached clients must be dropped.
    Clients,
    /// The suspended-tenant set must be re-read.
    Tenants,
    /// Not understood: reload everything.
    Reload,
}

impl Denylist {
    pub fn is_denied(&self, t: &TokenFacts<'_>) -> bool {
        if self.jtis.contains_key(&t.jti) {
            return true;
        }
        if let Some(tenant) = t.tenant_id {
            if self.suspended_tenants.contains(&tenant) {
                return true;
            }
        }
        let cut = |s: Subject| self.cutoffs.get(&s).is_some_and(|at| t.issued_at <= *at);
        t.tenant_id.is_some_and(|id| cut(Subject::Tenant(id)))
            || t.user_id.is_some_and(|id| cut(Subject::User(id)))
            || t.application_id
                .is_some_and(|id| cut(Subject::Application(id)))
            || t.application_id
                .zip(t.tenant_id)
                .is_some_and(|(app, tenant)| cut(Subject::ApplicationTenant(app, tenant)))
            || (!self.cutoffs.is_empty() && cut(Subject::Client(t.client_id.to_owned())))
    }

    pub fn is_tenant_suspended(&self, tenant_id: Uuid) -> bool {
        self.suspended_tenants.contains(&tenant_id)
    }

    pub fn set_suspended_tenants(&mut self, tenants: HashSet<Uuid>) {
        self.suspended_tenants = tenants;
    }

    /// Applies one `gatehouse_tokens` payload.
    pub fn apply(&mut self, payload: &str) -> Notice {
        let parts: Vec<&str> = payload.split(' ').collect();
        match parts.as_slice() {
            ["cutoff", kind, id, at] => match (Subject::from_parts(kind, id), at.parse::<i64>()) {
                (Some(subject), Ok(at)) => {
                    let entry = self.cutoffs.entry(subject).or_insert(at);
                    *entry = (*entry).max(at);
                    if *kind == "tenant" {
                        return Notice::Tenants;
                    }
                    Notice::Applied
                }
                _ => Notice::Reload,
            },
            ["jti", id, exp] => match (id.parse::<Uuid>(), exp.parse::<i64>()) {
                (Ok(id), Ok(exp)) => {
                    self.jtis.insert(id, exp);
                    Notice::Applied
                }
                _ => Notice::Reload,
            },
            ["clients"] => Notice::Clients,
            ["tenants"] => Notice::Tenants,
            _ => Notice::Reload,
        }
    }

    /// Forgets what no live token can be refused by any more.
    pub fn prune(&mut self, now: OffsetDateTime) {
        let horizon = (now - RETENTION).unix_timestamp();
        self.cutoffs.retain(|_, at| *at > horizon);
        let now = now.unix_timestamp();
        self.jtis.retain(|_, exp| *exp > now);
    }
}

/// Loads the whole denylist (at start, and after the listener lost its connection).
pub async fn load_denylist(pool: &PgPool) -> Result<Denylist, DomainError> {
    let cutoffs: Vec<(String, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT subject_kind, subject_id, not_before FROM oauth_token_cutoffs
          WHERE not_before > now() - $1",
    )
    .bind(RETENTION)
    .fetch_all(pool)
    .await?;
    let jtis: Vec<(Uuid, OffsetDateTime)> = sqlx::query_as(
        "SELECT jti, expires_at FROM oauth_revoked_access_tokens WHERE expires_at > now()",
    )
    .fetch_all(pool)
    .await?;
    Ok(Denylist {
        cutoffs: cutoffs
            .into_iter()
            .filter_map(|(kind, id, at)| {
                Subject::from_parts(&kind, &id).map(|s| (s, at.unix_timestamp()))
            })
            .collect(),
        jtis: jtis
            .into_iter()
            .map(|(id, exp)| (id, exp.unix_timestamp()))
            .collect(),
        suspended_tenants: load_suspended_tenants(pool).await?,
    })
}

pub async fn load_suspended_tenants(pool: &PgPool) -> Result<HashSet<Uuid>, DomainError> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants WHERE status = 'suspended'")
        .fetch_all(pool)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Deletes cutoffs and revoked ids no live token can be refused by any more.
pub async fn prune_stored(pool: &PgPool) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM oauth_token_cutoffs WHERE not_before < now() - $1")
        .bind(RETENTION)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM oauth_revoked_access_tokens WHERE expires_at < now()")
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(issued_at: i64, tenant: Uuid, user: Option<Uuid>) -> TokenFacts<'static> {
        TokenFacts {
            jti: Uuid::nil(),
            issued_at,
            tenant_id: Some(tenant),
            user_id: user,
            application_id: None,
            client_id: "gk_client",
        }
    }

    #[test]
    fn cutoffs_refuse_tokens_issued_up_to_them_only() {
        let tenant = Uuid::now_v7();
        let user = Uuid::now_v7();
        let mut d = Denylist::default();
        assert_eq!(
            d.apply(&format!("cutoff user {user} 1000")),
            Notice::Applied
        );
        assert!(d.is_denied(&facts(999, tenant, Some(user))));
        assert!(d.is_denied(&facts(1000, tenant, Some(user))));
        assert!(!d.is_denied(&facts(1001, tenant, Some(user))));
        assert!(!d.is_denied(&facts(999, tenant, None)));
        assert_eq!(d.apply("cutoff client gk_client 2000"), Notice::Applied);
        assert!(d.is_denied(&facts(1500, tenant, None)));
    }

    #[test]
    fn suspended_tenants_and_revoked_ids_refuse_at_any_time() {
        let tenant = Uuid::now_v7();
        let mut d = Denylist::default();
        d.set_suspended_tenants([tenant].into());
        assert!(d.is_denied(&facts(5000, tenant, None)));
        d.set_suspended_tenants(HashSet::new());
        assert!(!d.is_denied(&facts(5000, tenant, None)));
        d.apply(&format!("jti {} 9999999999", Uuid::nil()));
        assert!(d.is_denied(&facts(5000, tenant, None)));
        assert_eq!(d.apply("garbage"), Notice::Reload);
        assert_eq!(d.apply("clients"), Notice::Clients);
    }

    #[test]
    fn prune_forgets_what_cannot_matter() {
        let now = OffsetDateTime::now_utc();
        let mut d = Denylist::default();
        let old = (now - Duration::hours(3)).unix_timestamp();
        d.apply(&format!("cutoff user {} {old}", Uuid::now_v7()));
        d.apply(&format!("jti {} {old}", Uuid::now_v7()));
        d.prune(now);
        assert!(d.cutoffs.is_empty() && d.jtis.is_empty());
    }
}
