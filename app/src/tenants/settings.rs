//! `/admin/settings` (SPEC §3; FR-AUTH-006, CON-SEC-001, CON-SEC-005): the tenant's
//! security policies — password policy, MFA policy, session idle timeout — with every
//! refused field shown beside it. The plan and usage are on `/admin/subscription`
//! (`crate::billing::subscription`).

use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsPageData {
    pub min_length: u32,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    pub min_strength: u8,
    pub history: u32,
    pub mfa_policy: String,
    pub idle_timeout_minutes: i32,
    /// The location signals that ask for the second factor (NFR-SEC-006).
    pub location_signals: Vec<String>,
}

#[server(prefix = "/_rpc", endpoint = "tenant_settings_page")]
pub async fn tenant_settings_page() -> Result<SettingsPageData, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor_of, console_session};
    // The page's one resource, so it also guards the page.
    let actor = actor_of(&console_session("admin", "/admin/settings").await?);
    let tenant = crate::ui::ssr::tenant_of(&actor)?;
    let s = gatehouse_domain::tenants::get_settings(&pool()?, &actor, tenant).await?;
    Ok(SettingsPageData {
        min_length: s.password_policy.min_length,
        require_upper: s.password_policy.require_upper,
        require_lower: s.password_policy.require_lower,
        require_digit: s.password_policy.require_digit,
        require_symbol: s.password_policy.require_symbol,
        min_strength: s.password_policy.min_strength,
        history: s.password_policy.history,
        mfa_policy: s.mfa_policy.as_str().to_owned(),
        idle_timeout_minutes: s.session_idle_timeout_secs / 60,
        location_signals: s.location_signals,
    })
}

/// A whole number from a form field, or the problem with it.
#[cfg(feature = "ssr")]
fn number(raw: &str, field: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(Problem {
                field: field.into(),
                message: "must be a whole number".into(),
            });
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_rpc", endpoint = "save_tenant_settings")]
pub async fn save_tenant_settings(
    min_length: String,
    #[server(default)] require_upper: Option<String>,
    #[server(default)] require_lower: Option<String>,
    #[server(default)] require_digit: Option<String>,
    #[server(default)] require_symbol: Option<String>,
    min_strength: String,
    history: String,
    mfa_policy: String,
    idle_timeout_minutes: String,
    #[server(default)] new_country: Option<String>,
    #[server(default)] impossible_travel: Option<String>,
    #[server(default)] unusual_hour: Option<String>,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use crate::ui::ssr::{actor, form_refusal};
    use gatehouse_domain::tenants::{update_settings, SettingsChange, IDLE_TIMEOUT_SECS};
    let actor = actor().await?;
    let tenant = crate::ui::ssr::tenant_of(&actor)?;
    let (ctx, _) = request().await?;
    let mut problems = Vec::new();
    let min_length = number(&min_length, "password_policy.min_length", &mut problems);
    let min_strength = number(&min_strength, "password_policy.min_strength", &mut problems);
    let history = number(&history, "password_policy.history", &mut problems);
    let idle = number(
        &idle_timeout_minutes,
        "session_idle_timeout_secs",
        &mut problems,
    );
    let (Some(min_length), Some(min_strength), Some(history), Some(idle)) =
        (min_length, min_strength, history, idle)
    else {
        return Ok(Submitted::Refused(problems));
    };
    let on = crate::ui::ssr::ticked;
    let change = SettingsChange {
        password_policy: Some(leptos::serde_json::json!({
            "min_length": min_length,
            "require_upper": on(&require_upper),
            "require_lower": on(&require_lower),
            "require_digit": on(&require_digit),
            "require_symbol": on(&require_symbol),
            "min_strength": min_strength,
            "history": history,
        })),
        mfa_policy: Some(mfa_policy),
        session_idle_timeout_secs: Some(idle.saturating_mul(60)),
        location_signals: Some(
            [
                ("new_country", &new_country),
                ("impossible_travel", &impossible_travel),
                ("unusual_hour", &unusual_hour),
            ]
            .into_iter()
            .filter(|(_, ticked)| on(ticked))
            .map(|(name, _)| name.to_owned())
            .collect(),
        ),
    };
    let services = services()?;
    match services
        .apply(update_settings(services.pool(), &ctx, &actor, tenant, change).await)
        .await
    {
        Ok(_) => Ok(Submitted::Done(
            "The settings are saved. New passwords and new sessions follow them.".into(),
        )),
        // The form asks for minutes; the domain's bound speaks seconds (as the API does).
        Err(e) => form_refusal(e).map(|mut problems| {
            for p in problems
                .iter_mut()
                .filter(|p| p.field == "session_idle_timeout_secs")
            {
                p.message = format!(
                    "must be between {} and {} minutes (24 hours)",
                    IDLE_TIMEOUT_SECS.start() / 60,
                    IDLE_TIMEOUT_SECS.end() / 60
                );
            }
            Submitted::Refused(problems)
        }),
    }
}

// --- the browser side ---------------------------------------------------------------------

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveTenantSettings>::new();
    let saved = last_done(save.value());
    let page = Resource::new_blocking(saved, |_| tenant_settings_page());
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(Submitted::Done(m))) => notice.set(Some(Ok(m))),
        Some(Ok(Submitted::Refused(_))) => {
            notice.set(Some(Err(AppError::new("Nothing was saved: see the form."))))
        }
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    view! {
        <PageTitle text="Settings" />
        {when_loaded(page, None, move |p: SettingsPageData| view! {
            <ListHeader console=TENANT_ADMINISTRATION title="Settings" subtitle="Security policies for everyone in your organisation." />
            {outcome(notice)}
            <div class="grid gap-6 lg:grid-cols-5 lg:items-start">
                <PolicyForm data=p action=save />
                <Card heading_id="subscription-h" title="Subscription" extra="lg:col-span-2">
                    <p class="mt-2 text-sm text-slate-600">"Your plan, the features it gives your organisation and this month's usage have a page of their own."</p>
                    <a href="/admin/subscription" class=format!("{LINK} mt-3 inline-block text-sm") data-testid="settings-subscription">"Open the subscription →"</a>
                </Card>
            </div>
        }.into_any())}
    }
}

#[component]
fn PolicyForm(data: SettingsPageData, action: ServerAction<SaveTenantSettings>) -> impl IntoView {
    let value = action.value();
    let invalid = move |field: &'static str| invalid_when(value, field);
    let check = |name: &'static str, label: &'static str, on: bool| {
        view! {
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name=name value="on" checked=on
                    class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                {label}
            </label>
        }
    };
    view! {
        <Card heading_id="policy-h" title="Security policies" extra="lg:col-span-3">
            <ActionForm action=action attr:class="mt-4 grid gap-4 sm:grid-cols-2" attr:data-testid="settings-form">
                <Field id="min-length" label="Minimum password length" field="password_policy.min_length" problems=problems_with(value, "password_policy.min_length")>
                    <input id="min-length" name="min_length" inputmode="numeric" value=data.min_length.to_string() class=INPUT
                        aria-invalid=invalid("password_policy.min_length") aria-describedby="password_policy.min_length-error" />
                </Field>
                <Field id="min-strength" label="Minimum strength (zxcvbn, 0 = off)" field="password_policy.min_strength" problems=problems_with(value, "password_policy.min_strength")>
                    <input id="min-strength" name="min_strength" inputmode="numeric" value=data.min_strength.to_string() class=INPUT
                        aria-invalid=invalid("password_policy.min_strength") aria-describedby="password_policy.min_strength-error" />
                </Field>
                <fieldset class="sm:col-span-2">
                    <legend class="block text-sm font-medium">"Passwords must contain"</legend>
                    <div class="mt-2 grid grid-cols-2 gap-1">
                        {check("require_upper", "an upper-case letter", data.require_upper)}
                        {check("require_lower", "a lower-case letter", data.require_lower)}
                        {check("require_digit", "a digit", data.require_digit)}
                        {check("require_symbol", "a symbol", data.require_symbol)}
                    </div>
                </fieldset>
                <Field id="history" label="Previous passwords not to reuse" field="password_policy.history" problems=problems_with(value, "password_policy.history")>
                    <input id="history" name="history" inputmode="numeric" value=data.history.to_string() class=INPUT
                        aria-invalid=invalid("password_policy.history") aria-describedby="password_policy.history-error" />
                </Field>
                <Field id="mfa-policy" label="Second factor required for" field="mfa_policy" problems=problems_with(value, "mfa_policy")>
                    <select id="mfa-policy" name="mfa_policy" class=INPUT aria-describedby="mfa_policy-error">
                        {[("off", "Nobody"), ("admins", "Owners and admins"), ("everyone", "Everyone")].into_iter().map(|(v, label)| choice(v, label, &data.mfa_policy)).collect_view()}
                    </select>
                </Field>
                <Field id="idle-timeout" label="Sign out after idle (minutes)" field="session_idle_timeout_secs" problems=problems_with(value, "session_idle_timeout_secs")>
                    <input id="idle-timeout" name="idle_timeout_minutes" inputmode="numeric" value=data.idle_timeout_minutes.to_string() class=INPUT
                        aria-invalid=invalid("session_idle_timeout_secs") aria-describedby="idle-hint session_idle_timeout_secs-error" />
                    <p id="idle-hint" class="mt-1 text-xs text-slate-500">"1 minute to 24 hours; applies to new sessions."</p>
                </Field>
                <fieldset class="sm:col-span-2" data-testid="location-signals">
                    <legend class="block text-sm font-medium">"Also ask for the second factor on a sign-in from"</legend>
                    <div class="mt-2 grid gap-1 sm:grid-cols-2">
                        {check("new_country", "a country new for the person", data.location_signals.iter().any(|s| s == "new_country"))}
                        {check("impossible_travel", "impossible travel", data.location_signals.iter().any(|s| s == "impossible_travel"))}
                        {check("unusual_hour", "an unusual hour for the person", data.location_signals.iter().any(|s| s == "unusual_hour"))}
                    </div>
                    <p class="mt-1 text-xs text-slate-500">"A new device, a new network and recent failed attempts always ask for it."</p>
                </fieldset>
                <SubmitRow label="Save settings" testid="settings-submit" pending=action.pending() extra="sm:col-span-2" />
            </ActionForm>
        </Card>
    }
}
