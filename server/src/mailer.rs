//! The mail delivery worker (SPEC §3 "Email"; FR-AUTH-004 reset links, FR-TENANT-001
//! invitations, NFR-SEC-006 new-device notices).
//!
//! Domain operations write mail to the `email_outbox` table in their own transaction
//! (`gatehouse_domain::email::enqueue_mail`). This worker delivers it: it claims due mail
//! (a lease, so several server instances never send the same mail), sends a few at a time
//! through SMTP with lettre when `GATEHOUSE_SMTP_URL` is set, or else writes each as
//! `{data_dir}/mail/{id}.eml` for development, and records the outcome.
//!
//! Two kinds of failure are told apart (issue 21, faults):
//! - the mail's own: the SMTP server refused it, or it cannot be built. It is retried with
//!   exponential backoff and given up after [`email::MAX_ATTEMPTS`];
//! - the way out is down: the SMTP server cannot be reached (or answers 421), the mail
//!   directory cannot be written (read-only, full). No mail is at fault, so none spends an
//!   attempt: what was claimed goes back to the outbox with the reason as its `last_error`
//!   (shown on the operator dashboard), the outage is logged once as an error and shown by
//!   the `gatehouse_mail_delivery_up` gauge, and the worker probes the way out (1 s, then
//!   doubling up to 10 s). When it is back, everything that waited is due at once. Nothing
//!   else in the server waits for mail.
//!
//! It wakes on `NOTIFY email_outbox` (sent by the enqueueing transaction at commit) and
//! polls every few seconds as well, in case a notification was missed while the listening
//! connection was being re-established.
//!
//! The SMTP URL may carry a password: it stays in a `SecretString`, is never logged, and
//! is cut out of any error text before that is stored or logged (NFR-SEC-001: a password
//! is sent only over TLS, see [`smtp_transport`]).

use crate::config::Settings;
use anyhow::{anyhow, Context, Result};
use futures_util::StreamExt;
use gatehouse_domain::email::{self, AttemptOutcome, OutboxEntry, OUTBOX_CHANNEL};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::response::{Category, Code, Detail, Severity};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Mails claimed at once.
const BATCH: i64 = 20;
/// Mails in flight at once (lettre's pool keeps up to 10 SMTP connections).
const IN_FLIGHT: usize = 4;
/// SMTP's "421 service not available": the server is up but takes no mail now.
const SERVICE_NOT_AVAILABLE: Code = Code {
    severity: Severity::TransientNegativeCompletion,
    category: Category::Connections,
    detail: Detail::One,
};
/// The first probe of a way out found down, and the longest wait between two probes.
const PROBE_FIRST: Duration = Duration::from_secs(1);
const PROBE_MAX: Duration = Duration::from_secs(10);
/// The longest one SMTP delivery (connect, TLS, AUTH, DATA) may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long claimed mail stays reserved for this worker. Longer than a whole batch can
/// take (`BATCH × SEND_TIMEOUT`), so no other instance re-sends mail still being sent.
const LEASE: Duration = Duration::from_secs(300);
/// The fallback poll.
const POLL: Duration = Duration::from_secs(5);
/// Wait before re-establishing a lost `LISTEN` connection.
const RELISTEN: Duration = Duration::from_secs(5);
/// How long [`Mailer::stop`] waits for the mail in hand.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Where mail goes.
enum Delivery {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The URL's password (raw and percent-decoded), cut out of error texts.
        password: Vec<SecretString>,
    },
    Files {
        dir: PathBuf,
    },
}

/// The running worker. Dropping it asks the worker to stop as well, after the mail in
/// hand; [`Mailer::stop`] also waits for it.
pub struct Mailer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Mailer {
    /// Stops the worker after the mail it is sending, handing back mail it claimed but did
    /// not start, and waits for it (at most 30 s). Call before closing the pool.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("the mail worker did not stop in time; abandoning it");
            self.task.abort();
        }
    }
}

/// Starts the delivery worker on the current tokio runtime. Fails on a malformed
/// `GATEHOUSE_SMTP_URL` or `GATEHOUSE_MAIL_FROM` (the error never repeats the URL).
pub fn spawn_mailer(pool: PgPool, settings: &Settings) -> Result<Mailer> {
    let worker = Worker::new(settings)?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(worker.run(pool, stopped));
    Ok(Mailer { stop, task })
}

struct Worker {
    from: Mailbox,
    delivery: Delivery,
    /// Keep delivered bodies for the dev mailbox (demo mode only).
    keep_bodies: bool,
}

/// Why an attempt failed, already free of secrets.
struct Failure {
    message: String,
    /// No later attempt can succeed (the mail itself cannot be built).
    permanent: bool,
    /// The way out is down (SMTP unreachable, mail directory not writable): not the mail's
    /// fault.
    channel_down: bool,
}

impl Failure {
    fn of_mail(message: String, permanent: bool) -> Self {
        Self {
            message,
            permanent,
            channel_down: false,
        }
    }

    fn channel_down(message: String) -> Self {
        Self {
            message,
            permanent: false,
            channel_down: true,
        }
    }
}

/// What became of one claimed mail.
enum Attempt {
    Done,
    /// Not sent because the way out is down (the message, free of secrets).
    ChannelDown(String),
    /// Not started: stopping, or the way out was found down meanwhile.
    NotTried,
}

impl Worker {
    fn new(settings: &Settings) -> Result<Self> {
        let from: Mailbox = settings.mail_from.parse().map_err(|e| {
            anyhow!(
                "GATEHOUSE_MAIL_FROM '{}' is not a mailbox like 'Gatehouse <no-reply@example.com>': {e}",
                settings.mail_from
            )
        })?;
        let delivery = match &settings.smtp_url {
            Some(url) => {
                let (transport, password, server) = smtp_transport(url)?;
                tracing::info!(%server, "mail is delivered through SMTP");
                Delivery::Smtp {
                    transport,
                    password,
                }
            }
            None => {
                let dir = settings.data_dir.join("mail");
                tracing::info!(dir = %dir.display(), "GATEHOUSE_SMTP_URL is not set: mail is written as .eml files");
                Delivery::Files { dir }
            }
        };
        Ok(Self {
            from,
            delivery,
            keep_bodies: settings.demo,
        })
    }

    async fn run(self, pool: PgPool, mut stop: watch::Receiver<bool>) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen_for_mail(pool.clone(), wake.clone(), stop.clone()));
        metrics::gauge!("gatehouse_mail_delivery_up").set(1.0);
        loop {
            if let Err(error) = self.deliver_due(&pool, &stop).await {
                if self.wait_for_channel(&error, &mut stop).await {
                    continue;
                }
                break;
            }
            if stopping(&stop) {
                break;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                // A stop request, or the Mailer handle dropped.
                _ = stop.changed() => break,
            }
        }
        listener.abort();
        let _ = listener.await;
        tracing::info!("mail worker stopped");
    }

    /// Delivers batches until nothing is due (or a stop is requested). Fails with the
    /// reason when the way out is down; what was claimed is back in the outbox then.
    async fn deliver_due(&self, pool: &PgPool, stop: &watch::Receiver<bool>) -> Result<(), String> {
        loop {
            let batch = match email::claim_due_mail(pool, BATCH, LEASE).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming due mail failed; trying again later");
                    return Ok(());
                }
            };
            if batch.is_empty() {
                return Ok(());
            }
            // Once the way out is found down, mails not yet started are not tried.
            let down = std::sync::atomic::AtomicBool::new(false);
            let outcomes: Vec<(Uuid, Attempt)> = futures_util::stream::iter(batch)
                .map(|mail| {
                    let down = &down;
                    async move {
                        let id = mail.id;
                        if stopping(stop) || down.load(std::sync::atomic::Ordering::Relaxed) {
                            return (id, Attempt::NotTried);
                        }
                        let attempt = self.deliver_one(pool, mail).await;
                        if matches!(attempt, Attempt::ChannelDown(_)) {
                            down.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        (id, attempt)
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            let mut reason = None;
            let mut give_back = Vec::new();
            for (id, attempt) in outcomes {
                match attempt {
                    Attempt::Done => {}
                    Attempt::ChannelDown(error) => {
                        give_back.push(id);
                        reason = Some(error);
                    }
                    Attempt::NotTried => give_back.push(id),
                }
            }
            if !give_back.is_empty() {
                // Handed back at once instead of staying leased for minutes.
                if let Err(e) =
                    email::release_claimed_mail(pool, &give_back, reason.as_deref()).await
                {
                    tracing::warn!(error = %e, "handing back claimed mail failed; it is retried when its lease ends");
                }
            }
            if let Some(error) = reason {
                return Err(error);
            }
            if stopping(stop) {
                return Ok(());
            }
        }
    }

    /// Waits for the way out to come back: logs the outage once, then probes it (1 s,
    /// doubling to 10 s). True when it is back; false when asked to stop meanwhile.
    async fn wait_for_channel(&self, error: &str, stop: &mut watch::Receiver<bool>) -> bool {
        let since = std::time::Instant::now();
        let waiting = "mail waits in the outbox and goes out when it is back";
        metrics::gauge!("gatehouse_mail_delivery_up").set(0.0);
        match &self.delivery {
            Delivery::Smtp { .. } => {
                tracing::error!(%error, "the SMTP server cannot be reached; {waiting}")
            }
            Delivery::Files { dir } => tracing::error!(
                %error, dir = %dir.display(), "the mail directory cannot be written; {waiting}"
            ),
        }
        let mut wait = PROBE_FIRST;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return false,
            }
            if stopping(stop) {
                return false;
            }
            match self.probe().await {
                Ok(()) => {
                    metrics::gauge!("gatehouse_mail_delivery_up").set(1.0);
                    tracing::info!(
                        down_ms = since.elapsed().as_millis() as u64,
                        "mail delivery is back; sending what waited"
                    );
                    return true;
                }
                Err(e) => {
                    tracing::debug!(error = %self.redact(&e), "mail delivery is still down");
                    wait = (wait * 2).min(PROBE_MAX);
                }
            }
        }
    }

    /// Checks the way out without sending mail: an SMTP connection (greeting, EHLO, NOOP),
    /// or a file written and removed in the mail directory.
    async fn probe(&self) -> Result<(), String> {
        match &self.delivery {
            Delivery::Smtp { transport, .. } => match transport.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the SMTP server did not answer NOOP".into()),
                Err(e) => Err(e.to_string()),
            },
            Delivery::Files { dir } => {
                let probe = write_eml(dir, Uuid::new_v4(), b"")
                    .await
                    .map_err(|e| format!("{e:#}"))?;
                tokio::fs::remove_file(&probe)
                    .await
                    .map_err(|e| format!("removing {}: {e}", probe.display()))
            }
        }
    }

    async fn deliver_one(&self, pool: &PgPool, mail: OutboxEntry) -> Attempt {
        let result = match self.message(&mail) {
            Ok(message) => self.send(&mail, message).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(()) => {
                metrics::counter!("gatehouse_emails_total", "outcome" => "sent").increment(1);
                match email::mark_mail_sent(pool, mail.id, self.keep_bodies).await {
                    Ok(()) => {
                        tracing::info!(outbox_id = %mail.id, template = %mail.template, "mail delivered")
                    }
                    Err(e) => tracing::warn!(
                        outbox_id = %mail.id, error = %e,
                        "mail delivered but not marked sent; it may be sent again when its lease ends"
                    ),
                }
            }
            Err(failure) if failure.channel_down => {
                return Attempt::ChannelDown(self.redact(&failure.message));
            }
            Err(failure) => {
                let error = self.redact(&failure.message);
                match email::record_failed_attempt(pool, mail.id, &error, failure.permanent).await {
                    Ok(AttemptOutcome::RetryAt(at)) => {
                        metrics::counter!("gatehouse_emails_total", "outcome" => "retry")
                            .increment(1);
                        tracing::warn!(
                            outbox_id = %mail.id, template = %mail.template, attempts = mail.attempts,
                            retry_at = %at, error = %error, "delivering mail failed; will retry"
                        );
                    }
                    Ok(AttemptOutcome::GaveUp) => {
                        metrics::counter!("gatehouse_emails_total", "outcome" => "failed")
                            .increment(1);
                        tracing::error!(
                            outbox_id = %mail.id, template = %mail.template, attempts = mail.attempts,
                            error = %error, "delivering mail failed; giving up"
                        );
                    }
                    Err(e) => tracing::warn!(
                        outbox_id = %mail.id, error = %e,
                        "recording a failed mail attempt failed; it is retried when its lease ends"
                    ),
                }
            }
        }
        Attempt::Done
    }

    /// The MIME message: multipart/alternative with the text and the HTML part. Its
    /// Message-ID is the outbox id, so a receiver can tell a re-sent copy (after a worker
    /// died between sending and recording it) from a new mail.
    fn message(&self, mail: &OutboxEntry) -> Result<Message, Failure> {
        let to: Mailbox = mail.to_address.parse().map_err(|e| {
            Failure::of_mail(format!("the recipient address cannot be used: {e}"), true)
        })?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{}>", mail.id, self.from.email.domain())))
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| Failure::of_mail(format!("the message cannot be built: {e}"), true))
    }

    async fn send(&self, mail: &OutboxEntry, message: Message) -> Result<(), Failure> {
        match &self.delivery {
            Delivery::Smtp { transport, .. } => {
                transport.send(message).await.map(|_| ()).map_err(|e| {
                    // An answer about this mail is the mail's failure. SMTP refusals are
                    // retried too, even 5xx ones: a wrong password or a refused relay is the
                    // server's configuration, fixed without losing mail. No answer at all
                    // (refused connection, timeout, TLS) or 421 "service not available"
                    // means the server is down.
                    let answered = e.is_permanent() || e.is_transient() || e.is_response();
                    if !answered || e.status() == Some(SERVICE_NOT_AVAILABLE) {
                        Failure::channel_down(e.to_string())
                    } else {
                        Failure::of_mail(e.to_string(), false)
                    }
                })
            }
            // Nothing about one mail makes a file unwritable: the directory is at fault.
            Delivery::Files { dir } => write_eml(dir, mail.id, &message.formatted())
                .await
                .map(|_| ())
                .map_err(|e| Failure::channel_down(format!("{e:#}"))),
        }
    }

    /// `text` without the SMTP password, in case a server or library ever echoes it.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Delivery::Smtp { password, .. } = &self.delivery {
            for secret in password {
                let secret = secret.expose_secret();
                if !secret.is_empty() {
                    text = text.replace(secret, "[redacted]");
                }
            }
        }
        text
    }
}

fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Keeps a `LISTEN email_outbox` connection and wakes the worker on each notification.
/// Runs in its own task so that the worker's `select!` never cancels a half-read message.
async fn listen_for_mail(pool: PgPool, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(OUTBOX_CHANNEL).await {
                Ok(()) => {
                    // Mail may have been enqueued while no one listened.
                    wake.notify_one();
                    loop {
                        match listener.recv().await {
                            Ok(_) => wake.notify_one(),
                            Err(e) => {
                                tracing::debug!(error = %e, "the mail notification listener stopped");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "LISTEN email_outbox failed"),
            },
            Err(e) => tracing::debug!(error = %e, "no connection for mail notifications"),
        }
        if pool.is_closed() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(RELISTEN) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The lettre transport for `GATEHOUSE_SMTP_URL`, the password to keep out of error
/// texts, and `host:port` for the log.
///
/// lettre reads `smtp://host:port` as plain SMTP, `smtp://...?tls=required` as STARTTLS
/// and `smtps://host:port` as TLS from the first byte. A URL with a password and no `tls`
/// parameter would make lettre send the password in clear, so here `smtp://user:pass@host`
/// means STARTTLS required (NFR-SEC-001); `?tls=opportunistic` can be given explicitly.
fn smtp_transport(
    url: &SecretString,
) -> Result<(
    AsyncSmtpTransport<Tokio1Executor>,
    Vec<SecretString>,
    String,
)> {
    const EXPECTED: &str = "expected smtp://host:port, smtp://user:password@host:587 (STARTTLS) \
                            or smtps://user:password@host:465 (TLS)";
    let mut parsed = url::Url::parse(url.expose_secret())
        .map_err(|_| anyhow!("GATEHOUSE_SMTP_URL is not a URL; {EXPECTED}"))?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
        return Err(anyhow!("GATEHOUSE_SMTP_URL is not an SMTP URL; {EXPECTED}"));
    }
    let mut password = Vec::new();
    if let Some(raw) = parsed.password() {
        password.push(SecretString::from(raw.to_owned()));
        if let Ok(decoded) = percent_encoding::percent_decode_str(raw).decode_utf8() {
            password.push(SecretString::from(decoded.into_owned()));
        }
    }
    if parsed.scheme() == "smtp"
        && !password.is_empty()
        && !parsed.query_pairs().any(|(key, _)| key == "tls")
    {
        parsed.query_pairs_mut().append_pair("tls", "required");
    }
    let server = format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default(),
        parsed
            .port()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "default".into())
    );
    let redact = |text: String| {
        password.iter().fold(text, |text, secret| {
            let secret = secret.expose_secret();
            if secret.is_empty() {
                text
            } else {
                text.replace(secret, "[redacted]")
            }
        })
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str())
        .map_err(|e| anyhow!("{}", redact(format!("GATEHOUSE_SMTP_URL: {e}; {EXPECTED}"))))?
        .timeout(Some(SEND_TIMEOUT))
        .build();
    Ok((transport, password, server))
}

/// Writes `{dir}/{id}.eml` (mode 0600 on Unix: reset links in it are live secrets),
/// through a temporary file, so a reader never sees half a mail.
async fn write_eml(dir: &Path, id: Uuid, bytes: &[u8]) -> Result<PathBuf> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    {
        use tokio::io::AsyncWriteExt;
        let mut file = options
            .open(&partial)
            .await
            .with_context(|| format!("creating {}", partial.display()))?;
        file.write_all(bytes)
            .await
            .with_context(|| format!("writing {}", partial.display()))?;
        file.sync_all()
            .await
            .with_context(|| format!("writing {}", partial.display()))?;
    }
    tokio::fs::rename(&partial, &path)
        .await
        .with_context(|| format!("moving the mail to {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str]) -> Settings {
        let mut all = vec!["gatehouse"];
        all.extend_from_slice(args);
        crate::cli::Cli::try_parse_from(all).unwrap().settings
    }

    fn entry(id: Uuid) -> OutboxEntry {
        let now = time::OffsetDateTime::now_utc();
        OutboxEntry {
            id,
            tenant_id: None,
            template: "password_reset".into(),
            to_address: "ada@example.com".into(),
            subject: "Reset your Gatehouse password".into(),
            text_body: "Open https://gh.example/reset-password/abc\n".into(),
            html_body: "<p><a href=\"https://gh.example/reset-password/abc\">Reset</a></p>".into(),
            status: "pending".into(),
            attempts: 1,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
        }
    }

    #[tokio::test]
    async fn without_smtp_mail_is_written_as_an_eml_file() {
        let data_dir = std::env::temp_dir().join(format!("gatehouse-mail-{}", Uuid::new_v4()));
        let data_arg = data_dir.to_string_lossy().into_owned();
        let worker = Worker::new(&settings(&["--data-dir", &data_arg])).unwrap();
        let id = Uuid::new_v4();
        let mail = entry(id);
        let message = worker.message(&mail).ok().unwrap();
        worker.send(&mail, message).await.ok().unwrap();

        let path = data_dir.join("mail").join(format!("{id}.eml"));
        let eml = std::fs::read_to_string(&path).unwrap();
        assert!(
            eml.contains("From: Gatehouse <no-reply@localhost>"),
            "{eml}"
        );
        assert!(eml.contains("To: ada@example.com"), "{eml}");
        assert!(
            eml.contains("Subject: Reset your Gatehouse password"),
            "{eml}"
        );
        assert!(
            eml.contains(&format!("Message-ID: <{id}@localhost>")),
            "{eml}"
        );
        assert!(eml.contains("multipart/alternative"), "{eml}");
        assert!(eml.contains("text/plain"), "{eml}");
        assert!(eml.contains("text/html"), "{eml}");
        assert!(
            eml.contains("https://gh.example/reset-password/abc"),
            "{eml}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No partial file is left behind.
        let names: Vec<_> = std::fs::read_dir(data_dir.join("mail"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    #[test]
    fn an_address_lettre_cannot_use_fails_for_good() {
        let worker = Worker::new(&settings(&[])).unwrap();
        let mut mail = entry(Uuid::new_v4());
        mail.to_address = "not an address".into();
        let failure = worker.message(&mail).err().unwrap();
        assert!(failure.permanent);
    }

    #[test]
    fn smtp_urls_are_understood_and_errors_never_show_the_password() {
        let url = |u: &str| SecretString::from(u.to_owned());
        let (_, password, server) = smtp_transport(&url("smtp://127.0.0.1:2525")).unwrap();
        assert!(password.is_empty());
        assert_eq!(server, "smtp://127.0.0.1:2525");
        let (_, password, server) =
            smtp_transport(&url("smtp://mailer:p%40ss@mail.example.com:587")).unwrap();
        assert_eq!(password.len(), 2);
        assert_eq!(password[1].expose_secret(), "p@ss");
        assert_eq!(server, "smtp://mail.example.com:587");
        smtp_transport(&url("smtps://mailer:pw@mail.example.com:465")).unwrap();

        for bad in [
            "http://mailer:hunter2@mail.example.com",
            "smtp://mailer:hunter2@mail.example.com?tls=sometimes",
            "not a url hunter2",
        ] {
            let e = smtp_transport(&url(bad)).err().unwrap();
            let text = format!("{e:#}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    /// A minimal SMTP server: accepts every mail and hands its DATA to `received`.
    async fn fake_smtp(
        listener: tokio::net::TcpListener,
        received: tokio::sync::mpsc::UnboundedSender<String>,
    ) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        while let Ok((stream, _)) = listener.accept().await {
            let received = received.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            received.send(data.take().unwrap()).unwrap();
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    }

    async fn enqueue_reset(pool: &PgPool, url: &str) -> Uuid {
        let mut tx = pool.begin().await.unwrap();
        let id = email::enqueue_mail(
            &mut tx,
            None,
            &gatehouse_domain::types::Email::parse("ada@example.com").unwrap(),
            email::Mail::PasswordReset {
                reset_url: url.into(),
                expires_minutes: 60,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// Waits (up to 20 s) until `check` holds for the stored mail.
    async fn wait_for(
        pool: &PgPool,
        id: Uuid,
        check: impl Fn(&OutboxEntry) -> bool,
    ) -> OutboxEntry {
        for _ in 0..200 {
            let mail = email::get_outbox_entry(pool, id).await.unwrap();
            if check(&mail) {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the mail never reached the expected state");
    }

    /// Issue 21 (faults): SMTP down spends no attempt; the mail waits with the reason, and
    /// the worker's probe finds the server back and sends it without anyone's help.
    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn mail_waits_while_smtp_is_down_and_goes_out_when_it_is_back(pool: PgPool) {
        // A port nobody listens on yet: SMTP is down.
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let smtp_url = format!("smtp://{addr}");
        let mailer = spawn_mailer(pool.clone(), &settings(&["--smtp-url", &smtp_url])).unwrap();

        let id = enqueue_reset(&pool, "https://gh.example/reset-password/abc").await;
        let waiting = wait_for(&pool, id, |m| m.last_error.is_some()).await;
        assert_eq!(waiting.status, "pending", "kept until the server is back");
        assert_eq!(
            waiting.attempts, 0,
            "the server's outage is not the mail's attempt"
        );
        let error = waiting.last_error.unwrap_or_default();
        assert!(error.to_lowercase().contains("connect"), "{error}");

        // SMTP comes back; the next probe finds it and the mail goes out.
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let (tx, mut received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(fake_smtp(listener, tx));
        let sent = wait_for(&pool, id, |m| m.status == "sent").await;
        assert_eq!(sent.attempts, 1);
        assert!(sent.last_error.is_none());
        let data = tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            data.contains("Subject: Reset your Gatehouse password"),
            "{data}"
        );
        assert!(data.contains("multipart/alternative"), "{data}");
        assert!(
            data.contains("https://gh.example/reset-password/abc"),
            "{data}"
        );
        assert!(
            data.contains(&format!("Message-ID: <{id}@localhost>")),
            "{data}"
        );
        mailer.stop().await;
    }

    /// Issue 21 (faults): a server that answers "421 service not available" is down as
    /// well: the mail waits with the answer as its reason and spends no attempt.
    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn a_421_greeting_counts_as_smtp_down(pool: PgPool) {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream
                    .write_all(b"421 mail.example closing: service not available\r\n")
                    .await;
            }
        });
        let smtp_url = format!("smtp://{addr}");
        let mailer = spawn_mailer(pool.clone(), &settings(&["--smtp-url", &smtp_url])).unwrap();
        let id = enqueue_reset(&pool, "https://gh.example/reset-password/421").await;
        let waiting = wait_for(&pool, id, |m| m.last_error.is_some()).await;
        assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 0));
        let error = waiting.last_error.unwrap_or_default();
        assert!(error.contains("421"), "{error}");
        mailer.stop().await;
    }

    /// Issue 21 (faults): a mail directory that cannot be written keeps the mail waiting
    /// with the reason, and it is written once the directory can be.
    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn mail_waits_while_the_mail_directory_cannot_be_written(pool: PgPool) {
        let data_dir = std::env::temp_dir().join(format!("gatehouse-mail-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir).unwrap();
        // A file where the directory should be: nothing can be written under it (as a
        // read-only disk, which scripts/ha_test.sh mounts for real).
        std::fs::write(data_dir.join("mail"), b"").unwrap();
        let data_arg = data_dir.to_string_lossy().into_owned();
        let mailer = spawn_mailer(pool.clone(), &settings(&["--data-dir", &data_arg])).unwrap();
        let id = enqueue_reset(&pool, "https://gh.example/reset-password/ro").await;
        let waiting = wait_for(&pool, id, |m| m.last_error.is_some()).await;
        assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 0));
        assert!(
            waiting.last_error.unwrap_or_default().contains("mail"),
            "the error names the path"
        );

        std::fs::remove_file(data_dir.join("mail")).unwrap();
        wait_for(&pool, id, |m| m.status == "sent").await;
        let eml = std::fs::read_to_string(data_dir.join("mail").join(format!("{id}.eml"))).unwrap();
        assert!(eml.contains("https://gh.example/reset-password/ro"));
        let names: Vec<_> = std::fs::read_dir(data_dir.join("mail"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no probe file is left: {names:?}");
        mailer.stop().await;
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn a_committed_mail_wakes_the_worker_and_lands_as_an_eml_file(pool: PgPool) {
        let data_dir = std::env::temp_dir().join(format!("gatehouse-mail-{}", Uuid::new_v4()));
        let data_arg = data_dir.to_string_lossy().into_owned();
        let mailer = spawn_mailer(pool.clone(), &settings(&["--data-dir", &data_arg])).unwrap();
        let id = enqueue_reset(&pool, "https://gh.example/reset-password/xyz").await;
        wait_for(&pool, id, |m| m.status == "sent").await;
        let eml = std::fs::read_to_string(data_dir.join("mail").join(format!("{id}.eml"))).unwrap();
        assert!(eml.contains("https://gh.example/reset-password/xyz"));
        mailer.stop().await;
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    #[test]
    fn a_bad_sender_is_refused_at_startup() {
        assert!(Worker::new(&settings(&["--mail-from", "no address here"])).is_err());
    }

    #[test]
    fn failure_texts_lose_the_password() {
        let worker = Worker::new(&settings(&[
            "--smtp-url",
            "smtp://u:s3cr%2Ft@127.0.0.1:2525",
        ]))
        .unwrap();
        assert_eq!(
            worker.redact("auth failed for s3cr/t and s3cr%2Ft"),
            "auth failed for [redacted] and [redacted]"
        );
    }
}
