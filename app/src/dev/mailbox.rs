//! The development mailbox (SPEC §3 "Email"): `/dev/mailbox` lists the transactional outbox
//! (invitations, password resets, new-device notices) and shows one mail's text, so a
//! person trying Gatehouse without an SMTP server can follow the links in them. Served only
//! in demo mode (`GATEHOUSE_DEMO`): the mails carry live reset and invitation links, so a
//! production server must never show them. Plain links and query parameters, so it works
//! without JavaScript.

use crate::error::AppError;
use crate::layout::{PageHeader, PageTitle};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// One line of the mailbox list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSummary {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub created: String,
}

/// One mail, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDetail {
    pub summary: MailSummary,
    pub text_body: String,
    pub html_body: String,
    pub sent: Option<String>,
    pub last_error: Option<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::MailSummary;
    use crate::error::AppError;
    use gatehouse_domain::email::OutboxEntry;

    /// The mails the list shows.
    pub const LIST_LIMIT: i64 = 100;

    /// Refuses unless the server runs in demo mode.
    pub fn demo_only() -> Result<(), AppError> {
        if crate::auth::ssr::web_config()?.demo {
            Ok(())
        } else {
            Err(AppError::with_status(
                http::StatusCode::NOT_FOUND,
                "The mailbox is available only in demo mode (GATEHOUSE_DEMO=true).",
            ))
        }
    }

    /// "2026-11-22 14:05:09 UTC".
    pub fn timestamp(at: time::OffsetDateTime) -> String {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        at.to_offset(time::UtcOffset::UTC)
            .format(&format)
            .unwrap_or_else(|_| at.to_string())
    }

    pub fn summary(mail: &OutboxEntry) -> MailSummary {
        MailSummary {
            id: mail.id.to_string(),
            to: mail.to_address.clone(),
            subject: mail.subject.clone(),
            template: mail.template.replace('_', " "),
            status: mail.status.clone(),
            attempts: mail.attempts,
            created: timestamp(mail.created_at),
        }
    }
}

/// The newest mails of the outbox (demo mode only).
#[server(prefix = "/_rpc", endpoint = "mailbox_list")]
pub async fn mailbox_list() -> Result<Vec<MailSummary>, AppError> {
    ssr::demo_only()?;
    let pool = crate::auth::ssr::pool()?;
    let mails = gatehouse_domain::email::list_outbox(&pool, ssr::LIST_LIMIT).await?;
    Ok(mails.iter().map(ssr::summary).collect())
}

/// One mail of the outbox with its bodies (demo mode only).
#[server(prefix = "/_rpc", endpoint = "mailbox_mail")]
pub async fn mailbox_mail(id: String) -> Result<MailDetail, AppError> {
    ssr::demo_only()?;
    let pool = crate::auth::ssr::pool()?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::with_status(http::StatusCode::NOT_FOUND, "mail not found"))?;
    let mail = gatehouse_domain::email::get_outbox_entry(&pool, id).await?;
    Ok(MailDetail {
        summary: ssr::summary(&mail),
        sent: mail.sent_at.map(ssr::timestamp),
        last_error: mail.last_error.clone(),
        text_body: mail.text_body,
        html_body: mail.html_body,
    })
}

/// A piece of a mail's plain text: text, or a web link to make clickable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Link(String),
}

/// Splits `text` into plain runs and `http(s)://` links. A link ends at white space or
/// at a character that cannot be part of one; trailing punctuation stays text.
fn linkify(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = [rest.find("https://"), rest.find("http://")]
        .into_iter()
        .flatten()
        .min()
    {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let scheme_only = link == "https://" || link == "http://";
        let text_end = if scheme_only { start + end } else { start };
        if text_end > 0 {
            pieces.push(Piece::Text(rest[..text_end].to_owned()));
        }
        if !scheme_only {
            pieces.push(Piece::Link(link.to_owned()));
            rest = &rest[start + link.len()..];
        } else {
            rest = &rest[text_end..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    pieces
}

fn status_badge(status: &str) -> &'static str {
    match status {
        "sent" => "inline-flex rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-emerald-200",
        "failed" => "inline-flex rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-800 ring-1 ring-red-200",
        _ => "inline-flex rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200",
    }
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    let query = use_query_map();
    let selected = move || query.read().get("id").filter(|id| !id.trim().is_empty());
    // One resource for the page: the list and the opened mail together (two resources
    // read in nested scopes hydrated against each other's values; see README).
    let page = Resource::new(selected, |id| async move {
        let list = mailbox_list().await?;
        let opened = match id {
            Some(id) => Some(mailbox_mail(id).await),
            None => None,
        };
        Ok::<_, AppError>((list, opened))
    });
    view! {
        <PageTitle text="Mailbox" />
        <PageHeader
            title="Mailbox"
            subtitle="Every mail Gatehouse has queued, newest first. Demo mode only: the links in these mails are live."
        />
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || page.get().map(|result| match result {
                Err(e) => view! {
                    <div role="alert" data-testid="mailbox-refused" class="mx-auto max-w-md rounded-xl border border-amber-200 bg-amber-50 p-6 text-amber-900">
                        <p class="font-medium">{e.message}</p>
                        <p class="mt-2 text-sm">"Outside demo mode, mail goes to the SMTP server set by GATEHOUSE_SMTP_URL, or to .eml files in the data directory."</p>
                    </div>
                }.into_any(),
                Ok((list, opened)) => view! {
                    <div class="space-y-6">
                        {opened.map(|mail| match mail {
                            Ok(mail) => view! { <OpenedMail mail /> }.into_any(),
                            Err(e) => view! { <crate::layout::Flash message=e.message error=true /> }.into_any(),
                        })}
                        <MailList list />
                    </div>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn MailList(list: Vec<MailSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div data-testid="mailbox-empty" class="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center">
                <p class="font-medium text-slate-700">"No mail yet"</p>
                <p class="mt-1 text-sm text-slate-600">
                    "Mail appears here when someone is invited, asks for a password reset, or signs in from a new device."
                </p>
            </div>
        }
        .into_any();
    }
    let count = list.len();
    view! {
        <section aria-labelledby="mailbox-list" class="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="flex items-center justify-between border-b border-slate-200 px-4 py-3">
                <h2 id="mailbox-list" class="text-sm font-semibold">{format!("{count} recent mail{}", if count == 1 { "" } else { "s" })}</h2>
                // rel=external: a full reload, so the list is read again.
                <a href="/dev/mailbox" rel="external" class="text-sm text-indigo-600 hover:underline">"Refresh"</a>
            </div>
            <div class="overflow-x-auto">
                <table class="min-w-full divide-y divide-slate-200 text-sm">
                    <thead class="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
                        <tr>
                            <th scope="col" class="px-4 py-2">"To"</th>
                            <th scope="col" class="px-4 py-2">"Subject"</th>
                            <th scope="col" class="px-4 py-2">"Template"</th>
                            <th scope="col" class="px-4 py-2">"Status"</th>
                            <th scope="col" class="px-4 py-2 text-right">"Attempts"</th>
                            <th scope="col" class="px-4 py-2">"Created"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {list.into_iter().map(|mail| view! {
                            <tr data-testid="mailbox-row" class="hover:bg-slate-50">
                                <td class="whitespace-nowrap px-4 py-2">{mail.to}</td>
                                <td class="px-4 py-2">
                                    <a href=format!("/dev/mailbox?id={}#mail", mail.id) class="font-medium text-indigo-700 hover:underline">{mail.subject}</a>
                                </td>
                                <td class="whitespace-nowrap px-4 py-2 text-slate-600">{mail.template}</td>
                                <td class="whitespace-nowrap px-4 py-2"><span class=status_badge(&mail.status)>{mail.status.clone()}</span></td>
                                <td class="whitespace-nowrap px-4 py-2 text-right tabular-nums">{mail.attempts}</td>
                                <td class="whitespace-nowrap px-4 py-2 text-slate-600">{mail.created}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn OpenedMail(mail: MailDetail) -> impl IntoView {
    let MailDetail {
        summary,
        text_body,
        html_body,
        sent,
        last_error,
    } = mail;
    let pieces = linkify(&text_body)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.into_any(),
            Piece::Link(url) => {
                let href = url.clone();
                view! { <a href=href class="text-indigo-700 underline break-all">{url}</a> }
                    .into_any()
            }
        })
        .collect_view();
    let meta = |label: &'static str, value: String| {
        view! {
            <div class="flex gap-2">
                <dt class="w-20 shrink-0 text-slate-500">{label}</dt>
                <dd class="min-w-0 break-words">{value}</dd>
            </div>
        }
    };
    view! {
        <article id="mail" data-testid="mailbox-mail" class="rounded-lg border border-slate-200 bg-white shadow-sm">
            <header class="border-b border-slate-200 px-6 py-4">
                <div class="flex items-start justify-between gap-4">
                    <h2 class="text-lg font-semibold">{summary.subject.clone()}</h2>
                    <a href="/dev/mailbox" class="shrink-0 text-sm text-indigo-600 hover:underline">"Close"</a>
                </div>
                <dl class="mt-3 space-y-1 text-sm">
                    {meta("To", summary.to.clone())}
                    {meta("Template", summary.template.clone())}
                    {meta("Created", summary.created.clone())}
                    {meta("Status", format!("{} after {} attempt{}", summary.status, summary.attempts, if summary.attempts == 1 { "" } else { "s" }))}
                    {sent.map(|at| meta("Sent", at))}
                    {last_error.map(|e| meta("Last error", e))}
                </dl>
            </header>
            <div class="px-6 py-4">
                <pre data-testid="mail-text" class="whitespace-pre-wrap break-words font-sans text-sm leading-relaxed text-slate-800">{pieces}</pre>
                <details class="mt-6 rounded-md border border-slate-200">
                    <summary class="cursor-pointer px-3 py-2 text-sm font-medium text-slate-700">"HTML part (source)"</summary>
                    <pre class="max-h-96 overflow-auto border-t border-slate-200 bg-slate-50 p-3 text-xs text-slate-700">{html_body}</pre>
                </details>
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_plain_text_become_pieces() {
        let text = "Open this link:\n\nhttps://gh.example/invite/abc?x=1\n\nor http://localhost:3000/account.\nDone";
        assert_eq!(
            linkify(text),
            vec![
                Piece::Text("Open this link:\n\n".into()),
                Piece::Link("https://gh.example/invite/abc?x=1".into()),
                Piece::Text("\n\nor ".into()),
                Piece::Link("http://localhost:3000/account".into()),
                Piece::Text(".\nDone".into()),
            ]
        );
        assert_eq!(linkify("no links"), vec![Piece::Text("no links".into())]);
        assert_eq!(linkify(""), vec![]);
        assert_eq!(
            linkify("just https:// here"),
            vec![
                Piece::Text("just https://".into()),
                Piece::Text(" here".into())
            ]
        );
    }
}
