//! Signing in through the tenant's OpenID provider (FR-AUTH-001, FR-AUTH-003, UC-LOGIN):
//! the callback's checks (`sso::finish_flow`), the account (`sso::resolve_account`), then
//! the same session start as a password sign-in, with the method `sso`. A provider that
//! proved a second factor (`amr`) satisfies the tenant's MFA policy when the connection
//! trusts it; otherwise Gatehouse asks for its own. Every outcome is audited:
//! `auth.sso.login.success` or `auth.sso.login.failure` with its reason.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
use crate::sso::{
    finish_flow, preview, record_test, resolve_account, Callback, FlowPurpose, SsoContext,
    TestReport,
};
use crate::DomainError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{begin_sign_in, SignIn, SignInSignals};

/// How a callback ended.
#[derive(Debug)]
pub enum SsoOutcome {
    /// Signed in (or pending a second factor): the session, and where the person was going.
    SignedIn {
        sign_in: SignIn,
        return_to: Option<String>,
    },
    /// The owner's test sign-in succeeded; the report is on the connection.
    Tested(Box<TestReport>),
    /// Refused with a stable reason code (audited).
    Refused {
        reason: &'static str,
        test: bool,
        return_to: Option<String>,
    },
}

/// Finishes the flow behind an SSO callback.
#[allow(clippy::too_many_arguments)]
pub async fn finish_sso_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    keys: &MasterKeys,
    sso: &SsoContext,
    public_url: &str,
    connection_id: Uuid,
    callback: Callback,
    browser_secret: Option<&str>,
    signals: SignInSignals<'_>,
) -> Result<SsoOutcome, DomainError> {
    let account_url = format!("{}/account", public_url.trim_end_matches('/'));
    let verified = match finish_flow(
        pool,
        keys,
        sso,
        public_url,
        connection_id,
        callback,
        browser_secret,
    )
    .await?
    {
        Ok(v) => v,
        Err(refused) => {
            let test = refused.purpose == Some(FlowPurpose::Test);
            let mut entry = failure(
                refused.connection.as_ref().and_then(|c| c.tenant_id),
                connection_id,
            )
            .meta("reason", refused.failure.code())
            .meta("test", test);
            if let Some(detail) = refused.failure.detail() {
                entry = entry.meta("detail", detail);
            }
            let mut conn = pool.acquire().await?;
            append_audit_entry(&mut conn, ctx, entry).await?;
            return Ok(SsoOutcome::Refused {
                reason: refused.failure.code(),
                test,
                return_to: refused.return_to,
            });
        }
    };
    let connection = &verified.connection;
    let claims = &verified.claims;
    let mut tx = pool.begin().await?;
    if verified.purpose == FlowPurpose::Test {
        let report = preview(&mut tx, connection, claims).await?;
        let tester = verified
            .tester_id
            .ok_or_else(|| anyhow::anyhow!("a test flow without its tester"))?;
        record_test(&mut tx, ctx, tester, connection, &report).await?;
        tx.commit().await?;
        return Ok(SsoOutcome::Tested(Box::new(report)));
    }
    let resolved = match resolve_account(&mut tx, ctx, connection, claims).await? {
        Ok(r) => r,
        Err(refused) => {
            // Nothing the resolution wrote stays; the refusal alone is recorded.
            tx.rollback().await?;
            let mut conn = pool.acquire().await?;
            append_audit_entry(
                &mut conn,
                ctx,
                failure(connection.tenant_id, connection.id)
                    .meta("reason", refused.code())
                    .meta("subject", claims.subject.clone())
                    .meta(
                        "email_domain",
                        claims
                            .email
                            .as_deref()
                            .and_then(|e| e.rsplit_once('@'))
                            .map(|(_, d)| d.to_ascii_lowercase()),
                    ),
            )
            .await?;
            return Ok(SsoOutcome::Refused {
                reason: refused.code(),
                test: false,
                return_to: verified.return_to,
            });
        }
    };
    // Stamped at most once a minute: concurrent sign-ins of one tenant do not queue on
    // the connection's row.
    sqlx::query(
        "UPDATE sso_connections SET last_login_at = now()
         WHERE id = $1 AND (last_login_at IS NULL OR last_login_at < now() - interval '1 minute')",
    )
    .bind(connection.id)
    .execute(&mut *tx)
    .await?;
    let idp_mfa = connection.trust_idp_mfa && claims.multi_factor();
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.sso.login.success")
            .tenant(connection.tenant_id)
            .actor(ActorType::User, Some(resolved.user_id))
            .resource(format!("user:{}", resolved.user_id))
            .meta("connection", connection.id.to_string())
            .meta("created", resolved.created)
            .meta("linked", resolved.linked)
            .meta("role", resolved.role.as_str())
            .meta("idp_mfa", idp_mfa),
    )
    .await?;
    tx.commit().await?;
    let signals = SignInSignals {
        idp_second_factor: idp_mfa,
        ..signals
    };
    let sign_in = begin_sign_in(pool, ctx, resolved.user_id, "sso", signals, &account_url).await?;
    Ok(SsoOutcome::SignedIn {
        sign_in,
        return_to: verified.return_to,
    })
}

fn failure(tenant_id: Option<Uuid>, connection_id: Uuid) -> AuditEntry {
    AuditEntry::new("auth.sso.login.failure")
        .failure()
        .tenant(tenant_id)
        .actor(ActorType::User, None)
        .resource(format!("sso_connection:{connection_id}"))
}
