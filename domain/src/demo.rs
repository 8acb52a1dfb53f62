//! Demo data for a first look (README): an operator, an auditor and tenant `acme` with an
//! owner, an admin and a user. Created once, in one transaction, and audited like any
//! other change.

use crate::audit::RequestContext;
use crate::tenants::{find_tenant_by_domain, provision_tenant_in, NewTenant};
use crate::types::{DisplayName, Email, Plan, Role, TenantDomain, UserStatus};
use crate::users::{create_user_in, find_user_by_email, NewUser};
use crate::DomainError;
use secrecy::SecretString;
use sqlx::PgPool;

/// The demo accounts' shared password. Demo data is for local evaluation only.
pub const DEMO_PASSWORD: &str = "Gatehouse-demo-2026";

pub const DEMO_LOGINS: &[(&str, &str, Option<&str>)] = &[
    ("operator@gatehouse.test", "operator", None),
    ("auditor@gatehouse.test", "auditor", None),
    ("owner@acme.test", "owner", Some("acme")),
    ("admin@acme.test", "admin", Some("acme")),
    ("user@acme.test", "user", Some("acme")),
];

/// Creates the demo data unless it exists. Returns whether anything was created.
pub async fn ensure_demo_data(pool: &PgPool) -> Result<bool, DomainError> {
    let mut tx = pool.begin().await?;
    // Serialise concurrent `demo` runs.
    sqlx::query("SELECT pg_advisory_xact_lock(7240001)")
        .execute(&mut *tx)
        .await?;
    let acme = TenantDomain::parse("acme")?;
    if find_tenant_by_domain(&mut tx, &acme).await?.is_some() {
        return Ok(false);
    }
    let ctx = RequestContext::default();
    let tenant = provision_tenant_in(
        &mut tx,
        &ctx,
        None,
        NewTenant {
            name: DisplayName::parse("Acme Corporation")?,
            domain: acme,
            plan: Plan::Enterprise,
        },
    )
    .await?;
    for (email, role, tenant_hint) in DEMO_LOGINS {
        let email = Email::parse(email)?;
        let tenant_id = tenant_hint.map(|_| tenant.id);
        if find_user_by_email(&mut tx, tenant_id, &email)
            .await?
            .is_some()
        {
            continue;
        }
        let role = Role::parse(role)?;
        let name = format!("Demo {}", role.as_str());
        create_user_in(
            &mut tx,
            &ctx,
            None,
            NewUser {
                tenant_id,
                email,
                name: Some(DisplayName::parse(&name)?),
                role,
                status: UserStatus::Active,
                password: Some(SecretString::from(DEMO_PASSWORD.to_owned())),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The demo application: `Acme Portal`, enabled for `acme`, allowed every grant,
/// with one key. Returns `(client_id, secret)` when it was created now — the only moment
/// the secret exists outside its hash.
pub async fn ensure_demo_application(
    pool: &PgPool,
    redirect_uri: &str,
) -> Result<Option<(String, String)>, DomainError> {
    use crate::apps::{issue_key_in, register_application_in, ApplicationInput, KeyInput};
    use secrecy::ExposeSecret;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7240002)")
        .execute(&mut *tx)
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM applications WHERE name = $1)")
            .bind(DEMO_APPLICATION)
            .fetch_one(&mut *tx)
            .await?;
    if exists {
        return Ok(None);
    }
    let ctx = RequestContext::default();
    let app = register_application_in(
        &mut tx,
        &ctx,
        None,
        ApplicationInput {
            name: Some(DEMO_APPLICATION.into()),
            environment: Some("development".into()),
            redirect_uris: Some(vec![redirect_uri.to_owned()]),
            post_logout_redirect_uris: Some(vec![redirect_uri.to_owned()]),
            grant_types: Some(vec![
                "authorization_code".into(),
                "client_credentials".into(),
                "refresh_token".into(),
            ]),
            tenants: Some(vec!["acme".into()]),
            all_tenants: None,
        },
    )
    .await?;
    let key = issue_key_in(
        &mut tx,
        &ctx,
        None,
        app.id,
        KeyInput {
            name: Some("demo key".into()),
            scopes: [
                "openid",
                "profile",
                "email",
                "offline_access",
                "flag:read",
                "bill:write",
            ]
            .map(String::from)
            .to_vec(),
            expires_at: None,
            tenant: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some((key.key.id, key.secret.expose_secret().to_owned())))
}

pub const DEMO_APPLICATION: &str = "Acme Portal (demo)";

/// Demo flags, once: `new_checkout` (on for the enterprise plan), `dark_mode`
/// (off by default) and `beta_reports` (a 50 % rollout). Returns whether it created them.
pub async fn ensure_demo_flags(pool: &PgPool) -> Result<bool, DomainError> {
    use crate::flags::{create_flag_in, set_plan_default_in, FlagInput};
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7240003)")
        .execute(&mut *tx)
        .await?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM flag_definitions)")
        .fetch_one(&mut *tx)
        .await?;
    if any {
        return Ok(false);
    }
    let ctx = RequestContext::default();
    for (key, description, default_value, rollout) in [
        ("new_checkout", "The redesigned checkout flow", false, None),
        (
            "dark_mode",
            "Dark colour scheme in the customer portal",
            false,
            None,
        ),
        (
            "beta_reports",
            "Early access to the new reports",
            false,
            Some(50),
        ),
    ] {
        create_flag_in(
            &mut tx,
            &ctx,
            None,
            FlagInput {
                key: Some(key.into()),
                description: Some(description.into()),
                default_value: Some(default_value),
                rollout_percentage: Some(rollout),
            },
        )
        .await?;
    }
    set_plan_default_in(
        &mut tx,
        &ctx,
        None,
        "new_checkout",
        crate::types::Plan::Enterprise,
        Some(true),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Demo usage, once: the demo application's reports for `acme` over the last 40 days
/// (`api.call` and `storage.gb_hours`), so the consoles' usage charts have something to
/// show. Stored through the one ingestion path, so the rollup agrees with the events.
pub async fn ensure_demo_usage(pool: &PgPool) -> Result<bool, DomainError> {
    let found: Option<(uuid::Uuid, uuid::Uuid, bool)> = sqlx::query_as(
        "SELECT a.id, t.id, EXISTS (SELECT 1 FROM billing_events e
                                     WHERE e.tenant_id = t.id AND e.idempotency_key LIKE 'demo-%')
           FROM applications a, tenants t WHERE a.name = $1 AND t.domain = 'acme'",
    )
    .bind(DEMO_APPLICATION)
    .fetch_optional(pool)
    .await?;
    let Some((app, acme, false)) = found else {
        return Ok(false);
    };
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT)
        + time::Duration::hours(9);
    let mut events = Vec::new();
    for back in 1..=40_i64 {
        let at = today - time::Duration::days(back);
        let day = at.date();
        let calls = 800 + (back * 137) % 400 + if back % 7 < 2 { -500 } else { 0 };
        for (kind, quantity) in [
            ("api.call", calls),
            ("storage.gb_hours", 24 * (10 + back % 5)),
        ] {
            events.push(crate::billing::UsageEvent {
                id: format!("demo-{day}-{kind}"),
                tenant: None,
                timestamp: at,
                event_type: kind.to_owned(),
                quantity,
                metadata: Default::default(),
                timed: true,
            });
        }
    }
    let tenants = vec![acme; events.len()];
    crate::billing::ingest(pool, app, &events, &tenants).await?;
    Ok(true)
}
