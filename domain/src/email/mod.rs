//! Transactional email (SPEC §3 "Email"): the invitation (FR-TENANT-001, UC-TENANT-INVITE),
//! the password reset link (FR-AUTH-004, UC-AUTH-RESET) and the new-device sign-in notice
//! (NFR-SEC-006), rendered here and written to the `email_outbox` table.
//!
//! [`enqueue_mail`] inserts into the outbox inside the caller's transaction, so a mail
//! exists exactly when the change that caused it commits, and it raises a `NOTIFY` on
//! [`OUTBOX_CHANNEL`] (delivered at commit) so the delivery worker wakes at once. The
//! worker (server `mailer`) takes mail with [`claim_due_mail`], which leases it by moving
//! `next_attempt_at` forward under `FOR UPDATE SKIP LOCKED`: two server instances never
//! hold the same mail at once. It then records [`mark_mail_sent`] or
//! [`record_failed_attempt`] (exponential backoff, then `failed`), so nothing is lost while
//! SMTP is down.
//!
//! The three templates are small enough to write by hand: a template engine would add a
//! dependency and a build step for three messages. Every interpolated value goes through
//! [`escape_html`] in the HTML part (the five characters that matter in text and in quoted
//! attribute values).
//!
//! The bodies carry live secrets (reset and invitation links), so [`OutboxEntry`] is not
//! `Serialize` and its `Debug` leaves the bodies out.

mod outbox;
pub use outbox::*;

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::types::Email;
use crate::DomainError;
use anyhow::Context as _;
use sqlx::{FromRow, PgConnection, PgPool};
use std::fmt;
use time::{Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// The `LISTEN`/`NOTIFY` channel that announces new outbox mail.
pub const OUTBOX_CHANNEL: &str = "email_outbox";

/// Attempts before a mail is given up as `failed`.
pub const MAX_ATTEMPTS: i32 = 10;

/// The first retry waits this long; each further failure doubles it.
pub const FIRST_RETRY: Duration = Duration::seconds(30);

/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::hours(1);

/// The longest `last_error` kept (SMTP servers can answer with whole paragraphs).
const MAX_ERROR_CHARS: usize = 1000;

/// A transactional mail, with what its template needs.
#[derive(Clone, PartialEq, Eq)]
pub enum Mail {
    /// UC-TENANT-INVITE: join a tenant by following `accept_url` before `expires_at`.
    Invitation {
        tenant_name: String,
        /// Who invited (name or email), if a person did.
        inviter: Option<String>,
        role: String,
        accept_url: String,
        expires_at: OffsetDateTime,
    },
    /// FR-AUTH-004: choose a new password at `reset_url` within `expires_minutes`.
    PasswordReset {
        reset_url: String,
        expires_minutes: i64,
    },
    /// SPEC §9: confirm a new address for an account by following `confirm_url` before it
    /// expires (sent to the new address).
    EmailVerification {
        confirm_url: String,
        expires_hours: i64,
    },
    /// NFR-SEC-006: the account was signed in to from a device or network not seen before.
    NewDeviceSignIn {
        at: OffsetDateTime,
        ip: Option<String>,
        user_agent: Option<String>,
        account_url: String,
    },
    /// SPEC §3: an owner signed in with a password while the organisation requires SSO
    /// (break-glass); the other owners are told.
    BreakGlassSignIn {
        owner: String,
        tenant_name: String,
        at: OffsetDateTime,
        ip: Option<String>,
    },
    /// SPEC §9: a webhook endpoint has failed every delivery for 5 days.
    WebhookFailing { url: String, since: OffsetDateTime },
    /// NFR-MON-001: a detector found suspicious activity; `console_url` shows it.
    SecurityAlert {
        summary: String,
        at: OffsetDateTime,
        console_url: String,
    },
}

/// The URLs are bearer secrets (reset and invitation tokens), so they are not printed.
impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("template", &self.template())
            .finish_non_exhaustive()
    }
}

/// A mail ready to send: subject, plain-text part and HTML part.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for RenderedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderedMail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Mail {
    /// The template name stored in `email_outbox.template`.
    pub fn template(&self) -> &'static str {
        match self {
            Mail::Invitation { .. } => "invitation",
            Mail::PasswordReset { .. } => "password_reset",
            Mail::NewDeviceSignIn { .. } => "new_device_sign_in",
            Mail::EmailVerification { .. } => "email_verification",
            Mail::BreakGlassSignIn { .. } => "break_glass_sign_in",
            Mail::WebhookFailing { .. } => "webhook_failing",
            Mail::SecurityAlert { .. } => "security_alert",
        }
    }

    /// Subject, text and HTML. The subject is one line whatever the inputs hold.
    pub fn render(&self) -> RenderedMail {
        let rendered = match self {
            Mail::Invitation {
                tenant_name,
                inviter,
                role,
                accept_url,
                expires_at,
            } => render_invitation(
                tenant_name,
                inviter.as_deref(),
                role,
                accept_url,
                *expires_at,
            ),
            Mail::PasswordReset {
                reset_url,
                expires_minutes,
            } => render_password_reset(reset_url, *expires_minutes),
            Mail::EmailVerification {
                confirm_url,
                expires_hours,
            } => render_email_verification(confirm_url, *expires_hours),
            Mail::NewDeviceSignIn {
                at,
                ip,
                user_agent,
                account_url,
            } => render_new_device(*at, ip.as_deref(), user_agent.as_deref(), account_url),
            Mail::BreakGlassSignIn {
                owner,
                tenant_name,
                at,
                ip,
            } => render_break_glass(owner, tenant_name, *at, ip.as_deref()),
            Mail::WebhookFailing { url, since } => render_webhook_failing(url, *since),
            Mail::SecurityAlert {
                summary,
                at,
                console_url,
            } => render_security_alert(summary, *at, console_url),
        };
        RenderedMail {
            subject: one_line(&rendered.subject),
            ..rendered
        }
    }
}

fn render_invitation(
    tenant_name: &str,
    inviter: Option<&str>,
    role: &str,
    accept_url: &str,
    expires_at: OffsetDateTime,
) -> RenderedMail {
    let tenant = one_line(tenant_name);
    let expires = human_time(expires_at);
    // "an admin", "an owner", "a user".
    let article = match role.chars().next() {
        Some('a' | 'e' | 'i' | 'o') => "an",
        _ => "a",
    };
    let who = inviter.map(one_line);
    let text_intro = match &who {
        Some(who) => {
            format!("{who} invited you to join {tenant} on Gatehouse as {article} {role}.")
        }
        None => format!("You are invited to join {tenant} on Gatehouse as {article} {role}."),
    };
    let html_intro = match &who {
        Some(who) => format!(
            "<strong>{}</strong> invited you to join <strong>{}</strong> on Gatehouse as {article} {}.",
            escape_html(who),
            escape_html(&tenant),
            escape_html(role)
        ),
        None => format!(
            "You are invited to join <strong>{}</strong> on Gatehouse as {article} {}.",
            escape_html(&tenant),
            escape_html(role)
        ),
    };
    let text = format!(
        "Hello,\n\n\
         {text_intro}\n\n\
         To accept, open this link and choose your password:\n\n\
         {accept_url}\n\n\
         The invitation expires on {expires}.\n\n\
         If you did not expect this invitation, you can ignore this email; no account is \
         activated unless you accept.\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}{}{}",
        paragraph(&html_intro),
        button(accept_url, "Accept the invitation"),
        paragraph(&format!(
            "The invitation expires on {}.",
            escape_html(&expires)
        )),
        small(
            "If you did not expect this invitation, you can ignore this email; no account is \
             activated unless you accept."
        ),
    );
    RenderedMail {
        subject: format!("You are invited to join {tenant} on Gatehouse"),
        text,
        html: layout(&format!("Join {tenant}"), &body, accept_url),
    }
}

fn render_password_reset(reset_url: &str, expires_minutes: i64) -> RenderedMail {
    let lifetime = human_minutes(expires_minutes);
    let text = format!(
        "Hello,\n\n\
         Someone asked to reset the password of your Gatehouse account. To choose a new \
         password, open this link:\n\n\
         {reset_url}\n\n\
         The link works once, for {lifetime}. Setting a new password signs your account out \
         everywhere.\n\n\
         If you did not ask for this, ignore this email: your password stays as it is.\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}{}{}",
        paragraph(
            "Someone asked to reset the password of your Gatehouse account. To choose a new \
             password, use the button below."
        ),
        button(reset_url, "Choose a new password"),
        paragraph(&format!(
            "The link works once, for {}. Setting a new password signs your account out everywhere.",
            escape_html(&lifetime)
        )),
        small("If you did not ask for this, ignore this email: your password stays as it is."),
    );
    RenderedMail {
        subject: "Reset your Gatehouse password".into(),
        text,
        html: layout("Reset your password", &body, reset_url),
    }
}

fn render_email_verification(confirm_url: &str, expires_hours: i64) -> RenderedMail {
    let text = format!(
        "Hello,\n\n\
         This address was given as the new email address of a Gatehouse account. To confirm \
         it, open this link:\n\n\
         {confirm_url}\n\n\
         The link works once, for {expires_hours} hours. Until then the account keeps its \
         current address.\n\n\
         If you did not expect this, ignore this email: nothing changes.\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}{}{}",
        paragraph(
            "This address was given as the new email address of a Gatehouse account. To \
             confirm it, use the button below."
        ),
        button(confirm_url, "Confirm this address"),
        paragraph(&format!(
            "The link works once, for {expires_hours} hours. Until then the account keeps its current address."
        )),
        small("If you did not expect this, ignore this email: nothing changes."),
    );
    RenderedMail {
        subject: "Confirm your new email address".into(),
        text,
        html: layout("Confirm your new email address", &body, confirm_url),
    }
}

fn render_break_glass(
    owner: &str,
    tenant_name: &str,
    at: OffsetDateTime,
    ip: Option<&str>,
) -> RenderedMail {
    let (owner, tenant) = (one_line(owner), one_line(tenant_name));
    let when = human_time(at);
    let ip = ip.map(one_line).unwrap_or_else(|| "unknown".into());
    let text = format!(
        "Hello,\n\n\
         {owner} signed in to {tenant} with a password and a second factor, bypassing single \
         sign-on (break-glass access).\n\n\
         \x20 When:    {when}\n\
         \x20 Address: {ip}\n\n\
         If this was not expected, check the organisation's audit log and the owner's sessions.\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}",
        paragraph(&format!(
            "<strong>{}</strong> signed in to <strong>{}</strong> with a password and a second \
             factor, bypassing single sign-on (break-glass access), on {} from {}.",
            escape_html(&owner),
            escape_html(&tenant),
            escape_html(&when),
            escape_html(&ip)
        )),
        small("If this was not expected, check the organisation's audit log and the owner's sessions."),
    );
    RenderedMail {
        subject: format!("Break-glass sign-in to {tenant}"),
        text,
        html: layout("Break-glass sign-in", &body, ""),
    }
}

fn render_webhook_failing(url: &str, since: OffsetDateTime) -> RenderedMail {
    let (url, when) = (one_line(url), human_time(since));
    let text = format!(
        "Hello,\n\n\
         Every delivery to the webhook endpoint\n\n  {url}\n\n\
         has failed since {when}. Gatehouse keeps retrying each event on its schedule, and \
         the endpoint's delivery history shows each answer.\n\n\
         Check that the receiver is up and answers 2xx, then redeliver what failed from the \
         console.\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}",
        paragraph(&format!(
            "Every delivery to the webhook endpoint <strong>{}</strong> has failed since {}.",
            escape_html(&url),
            escape_html(&when)
        )),
        small(
            "Gatehouse keeps retrying each event on its schedule. Check that the receiver is up \
             and answers 2xx, then redeliver what failed from the console."
        ),
    );
    RenderedMail {
        subject: "A webhook endpoint is failing".into(),
        text,
        html: layout("A webhook endpoint is failing", &body, ""),
    }
}

fn render_security_alert(summary: &str, at: OffsetDateTime, console_url: &str) -> RenderedMail {
    let (summary, when) = (one_line(summary), human_time(at));
    let text = format!(
        "Hello,\n\n\
         Gatehouse noticed suspicious activity at {when}:\n\n  {summary}\n\n\
         The alert and its evidence are on your dashboard:\n\n{console_url}\n\n\
         -- \nGatehouse\n"
    );
    let body = format!(
        "{}{}{}",
        paragraph(&format!(
            "Gatehouse noticed suspicious activity at {}:",
            escape_html(&when)
        )),
        paragraph(&format!("<strong>{}</strong>", escape_html(&summary))),
        button(console_url, "Open the dashboard"),
    );
    RenderedMail {
        subject: format!("Security alert: {summary}"),
        text,
        html: layout("Security alert", &body, console_url),
    }
}

fn render_new_device(
    at: OffsetDateTime,
    ip: Option<&str>,
    user_agent: Option<&str>,
    account_url: &str,
) -> RenderedMail {
    let when = human_time(at);
    let ip = ip.map(one_line).unwrap_or_else(|| "unknown".into());
    let device = user_agent
        .map(|ua| one_line(ua).chars().take(200).collect::<String>())
        .unwrap_or_else(|| "unknown".into());
    let text = format!(
        "Hello,\n\n\
         Your Gatehouse account was just signed in to from a device or network it has not \
         used before.\n\n\
         \x20 When:    {when}\n\
         \x20 Address: {ip}\n\
         \x20 Device:  {device}\n\n\
         If this was you, there is nothing to do.\n\n\
         If it was not you, change your password and sign out the sessions you do not \
         recognise on your account page:\n\n\
         {account_url}\n\n\
         -- \nGatehouse\n"
    );
    let row = |label: &str, value: &str| {
        format!(
            "<tr><td style=\"padding:4px 12px 4px 0;color:#64748b;white-space:nowrap;vertical-align:top\">{label}</td>\
             <td style=\"padding:4px 0;color:#0f172a;word-break:break-word\">{}</td></tr>",
            escape_html(value)
        )
    };
    let details = format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"margin:0 0 16px;font-size:14px\">{}{}{}</table>",
        row("When", &when),
        row("Address", &ip),
        row("Device", &device)
    );
    let body = format!(
        "{}{details}{}{}{}",
        paragraph(
            "Your Gatehouse account was just signed in to from a device or network it has not \
             used before."
        ),
        paragraph(
            "If this was you, there is nothing to do. If it was not you, change your password \
             and sign out the sessions you do not recognise."
        ),
        button(account_url, "Review your account"),
        small("You receive this notice for every sign-in from an unfamiliar device or network."),
    );
    RenderedMail {
        subject: "New sign-in to your Gatehouse account".into(),
        text,
        html: layout("New sign-in to your account", &body, account_url),
    }
}

// Inline styles and a table layout, because mail clients drop <style> blocks and ignore
// most modern CSS.

fn layout(heading: &str, body: &str, link: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{heading}</title></head>\
         <body style=\"margin:0;padding:0;background:#f1f5f9;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#0f172a\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f1f5f9;padding:24px 12px\"><tr><td align=\"center\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:560px\">\
         <tr><td style=\"padding:0 0 16px;font-size:18px;font-weight:600;color:#0f172a\">\
         <span style=\"display:inline-block;width:28px;height:28px;line-height:28px;text-align:center;border-radius:6px;background:#6366f1;color:#ffffff;font-weight:700;margin-right:8px\">G</span>Gatehouse</td></tr>\
         <tr><td style=\"background:#ffffff;border:1px solid #e2e8f0;border-radius:12px;padding:32px\">\
         <h1 style=\"margin:0 0 16px;font-size:22px;line-height:1.3;font-weight:600\">{heading}</h1>\
         {body}\
         <p style=\"margin:24px 0 0;font-size:13px;line-height:1.5;color:#64748b\">If the button does not work, copy this link into your browser:<br>\
         <a href=\"{link}\" style=\"color:#4f46e5;word-break:break-all\">{link}</a></p>\
         </td></tr>\
         <tr><td style=\"padding:16px 0 0;font-size:12px;color:#94a3b8;text-align:center\">Sent by Gatehouse. This is an automatic message; replies are not read.</td></tr>\
         </table></td></tr></table></body></html>\n",
        heading = escape_html(heading),
        link = escape_html(link),
    )
}

/// `html` is already markup: callers escape what they interpolate.
fn paragraph(html: &str) -> String {
    format!("<p style=\"margin:0 0 16px;font-size:15px;line-height:1.6\">{html}</p>")
}

fn small(html: &str) -> String {
    format!("<p style=\"margin:16px 0 0;font-size:13px;line-height:1.5;color:#64748b\">{html}</p>")
}

fn button(url: &str, label: &str) -> String {
    format!(
        "<p style=\"margin:24px 0\"><a href=\"{}\" style=\"display:inline-block;background:#4f46e5;color:#ffffff;\
         text-decoration:none;font-weight:600;font-size:15px;padding:12px 20px;border-radius:8px\">{}</a></p>",
        escape_html(url),
        escape_html(label)
    )
}

/// Escapes `& < > " '`: enough for text content and for double- or single-quoted
/// attribute values, which is everywhere the templates interpolate. Written here rather
/// than taken from a crate because none writes these exact entities, which the mails and
/// their tests pin: `html-escape` writes `'` as `&#x27;`, `askama_escape` writes `&#60;`
/// for `<`, and `v_htmlescape` also escapes the `/` of every link.
pub fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Control characters (line breaks above all) become spaces: a value must not add lines
/// to a subject header or to the layout of the plain-text part.
fn one_line(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// "22 November 2026, 14:05 UTC".
fn human_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    at.to_offset(UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.to_string())
}

/// "1 hour", "90 minutes", "2 hours".
fn human_minutes(minutes: i64) -> String {
    match minutes {
        60 => "1 hour".into(),
        m if m > 60 && m % 60 == 0 => format!("{} hours", m / 60),
        1 => "1 minute".into(),
        m => format!("{m} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn invitation(tenant: &str, inviter: Option<&str>) -> Mail {
        Mail::Invitation {
            tenant_name: tenant.into(),
            inviter: inviter.map(Into::into),
            role: "admin".into(),
            accept_url: "https://gh.example/invite/tok?a=1&b=2".into(),
            expires_at: datetime!(2026-11-29 14:05 UTC),
        }
    }

    #[test]
    fn template_names_match_the_outbox_check() {
        assert_eq!(invitation("Acme", None).template(), "invitation");
        assert_eq!(
            Mail::PasswordReset {
                reset_url: "u".into(),
                expires_minutes: 60
            }
            .template(),
            "password_reset"
        );
        assert_eq!(
            Mail::NewDeviceSignIn {
                at: datetime!(2026-11-22 10:00 UTC),
                ip: None,
                user_agent: None,
                account_url: "u".into()
            }
            .template(),
            "new_device_sign_in"
        );
        let verification = Mail::EmailVerification {
            confirm_url: "https://gh.example/verify-email/tok".into(),
            expires_hours: 24,
        };
        assert_eq!(verification.template(), "email_verification");
        let r = verification.render();
        assert_eq!(r.subject, "Confirm your new email address");
        assert!(r.text.contains("\nhttps://gh.example/verify-email/tok\n"));
        assert!(r.text.contains("24 hours"));
    }

    #[test]
    fn invitation_names_tenant_inviter_role_link_and_expiry() {
        let r = invitation("Acme Corp", Some("Ada Lovelace")).render();
        assert_eq!(r.subject, "You are invited to join Acme Corp on Gatehouse");
        assert!(r
            .text
            .contains("Ada Lovelace invited you to join Acme Corp on Gatehouse as an admin."));
        assert!(r.text.contains("\nhttps://gh.example/invite/tok?a=1&b=2\n"));
        assert!(r.text.contains("29 November 2026, 14:05 UTC"));
        assert!(r
            .html
            .contains("href=\"https://gh.example/invite/tok?a=1&amp;b=2\""));
        assert!(r.html.contains("<strong>Ada Lovelace</strong>"));
        assert!(r.html.contains("29 November 2026, 14:05 UTC"));
        let anonymous = invitation("Acme Corp", None).render();
        assert!(anonymous.text.contains("You are invited to join Acme Corp"));
    }

    #[test]
    fn every_interpolated_value_is_escaped_in_html() {
        let r = invitation("<script>alert(1)</script>", Some("\"Eve\" <eve@x>")).render();
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(r.html.contains("&quot;Eve&quot; &lt;eve@x&gt;"));
        // The plain-text part is not HTML: it shows the name as typed.
        assert!(r.text.contains("<script>alert(1)</script>"));

        let r = Mail::NewDeviceSignIn {
            at: datetime!(2026-11-22 10:00 UTC),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("<img src=x onerror=alert(1)>".into()),
            account_url: "https://gh.example/account\"><script>".into(),
        }
        .render();
        assert!(!r.html.contains("<img"));
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(r
            .html
            .contains("href=\"https://gh.example/account&quot;&gt;&lt;script&gt;\""));
    }

    #[test]
    fn subjects_stay_on_one_line() {
        let r = invitation("Acme\r\nBcc: victim@example.com", None).render();
        assert!(!r.subject.contains(['\r', '\n']));
        assert!(!r.text.contains("Acme\r\n"));
    }

    #[test]
    fn password_reset_gives_link_and_lifetime_in_both_parts() {
        let r = Mail::PasswordReset {
            reset_url: "https://gh.example/reset-password/abc".into(),
            expires_minutes: 60,
        }
        .render();
        assert_eq!(r.subject, "Reset your Gatehouse password");
        assert!(r.text.contains("\nhttps://gh.example/reset-password/abc\n"));
        assert!(r.text.contains("for 1 hour"));
        assert!(r
            .html
            .contains("href=\"https://gh.example/reset-password/abc\""));
        assert!(r.html.contains("for 1 hour"));
        assert!(r.html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn new_device_notice_lists_time_address_and_device() {
        let r = Mail::NewDeviceSignIn {
            at: datetime!(2026-11-22 10:07:30 +02:00),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("Firefox on Linux".into()),
            account_url: "https://gh.example/account".into(),
        }
        .render();
        assert!(r.text.contains("When:    22 November 2026, 08:07 UTC"));
        assert!(r.text.contains("Address: 203.0.113.9"));
        assert!(r.text.contains("Device:  Firefox on Linux"));
        assert!(r.text.contains("\nhttps://gh.example/account\n"));
        assert!(r.html.contains("Firefox on Linux"));
        let unknown = Mail::NewDeviceSignIn {
            at: datetime!(2026-11-22 10:07 UTC),
            ip: None,
            user_agent: None,
            account_url: "https://gh.example/account".into(),
        }
        .render();
        assert!(unknown.text.contains("Address: unknown"));
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::seconds(30));
        assert_eq!(retry_delay(2), Duration::seconds(60));
        assert_eq!(retry_delay(3), Duration::seconds(120));
        assert_eq!(retry_delay(7), Duration::seconds(1920));
        assert_eq!(retry_delay(8), Duration::hours(1));
        assert_eq!(retry_delay(30), Duration::hours(1));
        assert_eq!(retry_delay(0), Duration::seconds(30));
    }

    #[test]
    fn debug_output_hides_the_links() {
        let mail = Mail::PasswordReset {
            reset_url: "https://gh.example/reset-password/SECRET".into(),
            expires_minutes: 60,
        };
        assert!(!format!("{mail:?}").contains("SECRET"));
        assert!(!format!("{:?}", mail.render()).contains("SECRET"));
    }
}
