//! The pieces every console page shares: the look (classes, badges), the page skeleton
//! (`page`: loading and refused states, breadcrumb, cards, flash lines), the lists
//! (`table`: filters, tables, pages), forms whose refusals show beside each field,
//! confirmations before destructive actions, and on the server the signed-in actor and the
//! mapping of domain refusals to form problems.

mod page;
mod table;

pub use page::*;
pub use table::*;

use crate::error::AppError;
use leptos::prelude::*;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// One refused input, named by the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// What a form's server function answers: done, or refused with the problems per field
/// (shown beside each field; the form keeps what was typed). Other failures — signed out,
/// not allowed, not found — stay `AppError`s and show as a flash line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Submitted<T> {
    Done(T),
    Refused(Vec<Problem>),
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Problem;
    use crate::auth::ssr::{page_session, set_status, signed_in};
    use crate::error::AppError;
    use gatehouse_domain::permissions::Actor;
    use gatehouse_domain::sessions::CurrentSession;
    use gatehouse_domain::{DomainError, FieldError};

    pub fn actor_of(session: &CurrentSession) -> Actor {
        Actor {
            user_id: session.user_id,
            tenant_id: session.tenant_id,
            role: session.role,
        }
    }

    /// The person opening a page of the console `page` (see
    /// [`crate::auth::roles_for_page`]) at `path`: others are sent to sign in, or get
    /// the same 403 page the console guard gives (see `crate::auth::whoami`).
    pub async fn console_session(page: &str, path: &str) -> Result<CurrentSession, AppError> {
        let session = page_session(path).await?;
        let roles = crate::auth::roles_for_page(page);
        if !roles.contains(&session.role.as_str()) {
            set_status(http::StatusCode::FORBIDDEN);
            return Err(AppError::new(format!(
                "This page is for {}. You are signed in as {} ({}).",
                roles.join(" or "),
                session.email,
                session.role.as_str()
            )));
        }
        Ok(session)
    }

    /// The operator opening a page at `path`.
    pub async fn operator_for_page(path: &str) -> Result<Actor, AppError> {
        Ok(actor_of(&console_session("operator", path).await?))
    }

    /// A domain error for a detail page, with "not found" said as `sentence` (still a 404).
    pub fn not_found_as(err: DomainError, sentence: &str) -> AppError {
        match err {
            DomainError::NotFound(what) => {
                let mut e = AppError::from(DomainError::NotFound(what));
                e.message = sentence.to_owned();
                e
            }
            other => other.into(),
        }
    }

    /// An id from a URL or a form; anything else is "not found" (said as `sentence`).
    pub fn id_of(raw: &str, what: &'static str, sentence: &str) -> Result<uuid::Uuid, AppError> {
        uuid::Uuid::parse_str(raw.trim())
            .map_err(|_| not_found_as(DomainError::NotFound(what), sentence))
    }

    /// The signed-in person's own tenant (Tenant Administration is always about it).
    pub fn tenant_of(actor: &Actor) -> Result<uuid::Uuid, AppError> {
        actor
            .tenant_id
            .ok_or_else(|| AppError::from(DomainError::NotFound("tenant")))
    }

    /// The signed-in person behind a change; the domain decides whether they may make it.
    pub async fn actor() -> Result<Actor, AppError> {
        Ok(actor_of(&signed_in().await?))
    }

    /// The country of an address, for session lists and audit views (NFR-SEC-006), or "—".
    pub fn place(ip: Option<&str>) -> String {
        ip.and_then(|ip| ip.parse().ok())
            .and_then(gatehouse_domain::login::locate)
            .map_or_else(|| "—".to_owned(), |c| c.name().to_owned())
    }

    pub fn when(t: time::OffsetDateTime) -> String {
        let t = t.to_offset(time::UtcOffset::UTC);
        format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    /// The domain's field errors per form field: `redirect_uris[2]` belongs to the
    /// `redirect_uris` textarea.
    pub fn problems(details: Vec<FieldError>) -> Vec<Problem> {
        details
            .into_iter()
            .map(|d| Problem {
                field: d.field.split('[').next().unwrap_or_default().to_owned(),
                message: d.message,
            })
            .collect()
    }

    /// Whether a checkbox was ticked: a form sends its value (`true`, `on`) only then.
    pub fn ticked(value: &Option<String>) -> bool {
        value
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "false")
    }

    /// The entries of a textarea or list field: split on new lines (and on commas when
    /// `commas`), trimmed, empty ones dropped.
    pub fn entries(raw: &str, commas: bool) -> Vec<String> {
        raw.split(|c: char| c == '\n' || c == '\r' || (commas && c == ','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The end of the chosen day (UTC) from an `<input type="date">` value.
    pub fn end_of_day(raw: &str) -> Result<Option<time::OffsetDateTime>, Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let refused = || Problem {
            field: "expires_at".into(),
            message: "must be a date like 2030-12-31".into(),
        };
        let date = time::Date::parse(
            raw,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| refused())?;
        let next = date.next_day().ok_or_else(refused)?;
        Ok(Some(next.midnight().assume_utc()))
    }

    /// A refusal a form shows beside its fields (invalid input, or a conflict on one
    /// field such as a taken domain); any other error stays an error.
    pub fn form_refusal(err: DomainError) -> Result<Vec<Problem>, AppError> {
        match err {
            DomainError::Validation(details) => Ok(problems(details)),
            DomainError::Conflict {
                field: Some(field),
                message,
            } => Ok(vec![Problem { field, message }]),
            other => Err(other.into()),
        }
    }

    /// A database failure of the transaction itself, mapped like any domain error.
    pub fn db(err: sqlx::Error) -> AppError {
        AppError::from(DomainError::from(err))
    }
}

// --- the browser side ---------------------------------------------------------------------

pub const CARD: &str = "min-w-0 rounded-lg border border-slate-200 bg-white p-6 shadow-sm";
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 aria-[invalid=true]:border-red-400";
pub const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60";
pub const SECONDARY: &str = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
pub const DANGER: &str = "rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2";
pub const LINK: &str = "text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
pub const TH: &str = "whitespace-nowrap px-3 py-2 font-medium";
pub const TD: &str = "px-3 py-2 align-top";

pub fn badge(kind: &str) -> &'static str {
    match kind {
        "active" | "production" | "on" | "success" => {
            "inline-flex rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800"
        }
        "disabled" | "revoked" | "off" | "archived" | "default" | "free" => {
            "inline-flex rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-700"
        }
        "expired" | "staging" | "invited" => {
            "inline-flex rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800"
        }
        "suspended" | "failure" => {
            "inline-flex rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800"
        }
        "override" | "enterprise" => {
            "inline-flex rounded-full bg-violet-100 px-2 py-0.5 text-xs font-medium text-violet-800"
        }
        "plan" | "pro" => {
            "inline-flex rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-medium text-indigo-800"
        }
        _ => "inline-flex rounded-full bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-800",
    }
}

/// A flag value in words.
pub fn on_off(v: bool) -> &'static str {
    if v {
        "on"
    } else {
        "off"
    }
}

/// `?a=1&b=2` from the non-empty pairs ("" when none).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Everything but RFC 3986's unreserved characters (letters, digits, `-` `_` `.` `~`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query value for a link (unreserved characters stay as they are, a
/// space is `%20`); the one query encoder of the pages and the server functions.
pub fn url_encode(raw: &str) -> String {
    utf8_percent_encode(raw, QUERY_VALUE).to_string()
}

pub fn title_case(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What the action's last run made, if it was done (not while refused or failed): a page
/// reloads its resource on this, so a refused form keeps what was typed.
pub fn last_done<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<Submitted<T>, AppError>>> + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<T> + Copy + Send + Sync + 'static {
    move || match value.get() {
        Some(Ok(Submitted::Done(made))) => Some(made),
        _ => None,
    }
}

/// The problems the last submission had with `field`, if any.
pub fn problems_with<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<Submitted<T>, AppError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> Vec<String> + Copy + Send + Sync + 'static {
    move || match value.get() {
        Some(Ok(Submitted::Refused(problems))) => problems
            .into_iter()
            .filter(|p| p.field == field)
            .map(|p| p.message)
            .collect(),
        _ => Vec::new(),
    }
}

/// `aria-invalid` of a form field: "true" while the last submission had problems with it.
pub fn invalid_when<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<Submitted<T>, AppError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let problems = problems_with(value, field);
    move || (!problems().is_empty()).to_string()
}

/// Empties `form` each time its action succeeds from now on, so the next entry starts from
/// the defaults. (Reloading the page's resource does not: the view is rebuilt in place and
/// keeps what was typed.)
pub fn reset_when_done<T: Clone + Send + Sync + 'static>(
    version: RwSignal<usize>,
    value: impl GetUntracked<Value = Option<Result<Submitted<T>, AppError>>> + Send + Sync + 'static,
    form: NodeRef<leptos::html::Form>,
) {
    let seen = StoredValue::new(version.get_untracked());
    Effect::new(move |_| {
        let now = version.get();
        if now == seen.get_value() {
            return;
        }
        seen.set_value(now);
        if let Some(Ok(Submitted::Done(_))) = value.get_untracked() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
}

/// The error lines under a form field (`{field}-error`, for `aria-describedby`).
#[component]
pub fn FieldProblems(
    field: &'static str,
    problems: impl Fn() -> Vec<String> + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div id=format!("{field}-error") data-testid=format!("{field}-error") class="mt-1 space-y-0.5 text-sm text-red-700">
            {move || problems().into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
        </div>
    }
}

/// One field of a form: its label (for the control `id`), the control and any hint under
/// it (the children), and the problems the last submission had with `field`.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    field: &'static str,
    problems: impl Fn() -> Vec<String> + Send + Sync + 'static,
    /// Classes of the field's box (its place in the form's grid).
    #[prop(optional)]
    extra: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class=extra>
            <label for=id class="block text-sm font-medium">{label}</label>
            {children()}
            <FieldProblems field problems />
        </div>
    }
}

/// A form's submit button (`testid`), disabled while the form's action runs, in a box
/// placed by `extra`.
#[component]
pub fn SubmitRow(
    label: &'static str,
    testid: &'static str,
    pending: Memo<bool>,
    #[prop(optional)] extra: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class=extra>
            <button type="submit" class=BUTTON data-testid=testid disabled=move || pending.get()>{label}</button>
        </div>
    }
}

/// A destructive button that asks once more before it submits its form. The question
/// takes the keyboard focus (and Escape or Cancel gives it back), so it works without a
/// mouse.
#[component]
pub fn ConfirmSubmit(
    label: &'static str,
    confirm: String,
    testid: &'static str,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    let (asking, set_asking) = signal(false);
    let returning = RwSignal::new(false);
    let ask_ref = NodeRef::<leptos::html::Button>::new();
    let yes_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(yes) = yes_ref.get() {
            let _ = yes.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(ask) = ask_ref.get() {
            if returning.get_untracked() {
                returning.set(false);
                let _ = ask.focus();
            }
        }
    });
    let cancel = move || {
        returning.set(true);
        set_asking.set(false);
    };
    let ask_class = if danger { DANGER } else { SECONDARY };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" node_ref=ask_ref class=ask_class data-testid=testid on:click=move |_| set_asking.set(true)>{label}</button>
            }
        >
            <span
                role="group"
                aria-label=label
                class="inline-flex flex-wrap items-center justify-end gap-2"
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { cancel() }
            >
                <span class="text-sm text-slate-700">{confirm.clone()}</span>
                <button type="submit" node_ref=yes_ref class=DANGER data-testid=format!("{testid}-confirm")>{format!("Yes, {}", label.to_lowercase())}</button>
                <button type="button" class=SECONDARY on:click=move |_| cancel()>"Cancel"</button>
            </span>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::{query_string, url_encode};

    #[test]
    fn query_values_keep_unreserved_characters_and_encode_the_rest_in_upper_case() {
        assert_eq!(url_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(
            url_encode("/admin/users?q=a b&c+d*é"),
            "%2Fadmin%2Fusers%3Fq%3Da%20b%26c%2Bd%2A%C3%A9"
        );
        assert_eq!(
            query_string(&[
                ("actor", "ann@acme.test"),
                ("action", ""),
                ("to", "2026-01-02")
            ]),
            "?actor=ann%40acme.test&to=2026-01-02"
        );
        assert_eq!(query_string(&[("action", "")]), "");
    }
}
