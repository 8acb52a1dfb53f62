//! `/operator/flags` and `/operator/flags/:key` (SPEC §6; FR-FLAG-001, FR-FLAG-002): the
//! Operator Console's feature flags — definitions with the plan-defaults matrix, a
//! stale-flags view (never evaluated, or not in 30 days), defining a flag, and a flag's page
//! with its settings, plan defaults and the history of every change (old → new, who, when).
//! Per-tenant overrides are set on the tenant's page.

use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// Days without an evaluation after which a flag counts as stale.
pub const STALE_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagDefRow {
    pub key: String,
    pub description: String,
    pub default_value: bool,
    pub rollout_percentage: Option<i16>,
    /// The value per plan, in the order of `plans`; `None` where the plan sets none.
    pub plan_values: Vec<Option<bool>>,
    pub last_evaluated: Option<String>,
    pub stale: bool,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagsPageData {
    pub flags: Vec<FlagDefRow>,
    pub plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub when: String,
    pub action: String,
    pub who: String,
    pub tenant: Option<String>,
    pub plan: Option<String>,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagPageData {
    pub flag: FlagDefRow,
    pub plans: Vec<String>,
    pub history: Vec<ChangeRow>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ChangeRow, FlagDefRow, STALE_DAYS};
    use crate::error::AppError;
    pub use crate::ui::ssr::{actor, db, operator_for_page, when};
    use gatehouse_domain::flags::{FlagChange, FlagDefinition};
    use gatehouse_domain::types::Plan;
    use gatehouse_domain::DomainError;
    use leptos::serde_json::Value;

    pub fn plans() -> Vec<String> {
        Plan::ALL.iter().map(|p| p.as_str().to_owned()).collect()
    }

    pub fn page_error(err: DomainError) -> AppError {
        crate::ui::ssr::not_found_as(err, "There is no flag with this key.")
    }

    pub fn row(f: FlagDefinition) -> FlagDefRow {
        let horizon = time::OffsetDateTime::now_utc() - time::Duration::days(STALE_DAYS);
        FlagDefRow {
            plan_values: Plan::ALL
                .iter()
                .map(|p| f.plan_defaults.get(p.as_str()).copied())
                .collect(),
            stale: f.last_evaluated_at.is_none_or(|t| t < horizon),
            last_evaluated: f.last_evaluated_at.map(when),
            updated: when(f.updated_at),
            key: f.key,
            description: f.description,
            default_value: f.default_value,
            rollout_percentage: f.rollout_percentage,
        }
    }

    /// A value of the audit trail's old/new as a short phrase.
    fn phrase(v: &Value) -> String {
        match v {
            Value::Null => "—".into(),
            Value::Bool(b) => crate::ui::on_off(*b).into(),
            Value::Object(m) => {
                let mut parts = Vec::new();
                if let Some(d) = m.get("default_value").and_then(Value::as_bool) {
                    parts.push(format!("default {}", crate::ui::on_off(d)));
                }
                match m.get("rollout_percentage") {
                    Some(Value::Number(n)) => parts.push(format!("rollout {n}%")),
                    Some(Value::Null) => parts.push("no rollout".into()),
                    _ => {}
                }
                if let Some(d) = m.get("description").and_then(Value::as_str) {
                    if !d.is_empty() {
                        parts.push(format!("“{d}”"));
                    }
                }
                parts.join(" · ")
            }
            other => other.to_string(),
        }
    }

    pub fn change(c: FlagChange, tenants: &[(uuid::Uuid, String)]) -> ChangeRow {
        ChangeRow {
            when: when(c.occurred_at),
            action: match c.action.as_str() {
                "flag.create" => "Defined",
                "flag.update" => "Settings changed",
                "flag.plan_default.set" => "Plan default",
                "flag.override.set" => "Override set",
                "flag.override.clear" => "Override cleared",
                _ => "Changed",
            }
            .to_owned(),
            who: c.actor_email.unwrap_or_else(|| "system".into()),
            tenant: c.tenant_id.map(|id| {
                tenants
                    .iter()
                    .find(|(t, _)| *t == id)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_else(|| id.to_string())
            }),
            plan: c.plan,
            old: phrase(&c.old),
            new: phrase(&c.new),
        }
    }
}

#[server(prefix = "/_rpc", endpoint = "flags_overview")]
pub async fn flags_overview() -> Result<FlagsPageData, AppError> {
    use crate::auth::ssr::pool;
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page("/operator/flags").await?;
    let flags = gatehouse_domain::flags::list_flags(&pool()?, Some(&actor)).await?;
    Ok(FlagsPageData {
        flags: flags.into_iter().map(ssr::row).collect(),
        plans: ssr::plans(),
    })
}

/// `on`/`off` from a form's select.
#[cfg(feature = "ssr")]
fn switch(raw: &str, field: &str) -> Result<bool, Problem> {
    match raw.trim() {
        "on" | "true" => Ok(true),
        "off" | "false" | "" => Ok(false),
        _ => Err(Problem {
            field: field.into(),
            message: "must be on or off".into(),
        }),
    }
}

/// A rollout percentage from a form (empty: none).
#[cfg(feature = "ssr")]
fn rollout(raw: &str) -> Result<Option<i16>, Problem> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i16>().map(Some).map_err(|_| Problem {
        field: "rollout_percentage".into(),
        message: "must be a whole number between 0 and 100".into(),
    })
}

/// A flag's settings from its form (the key only when it is defined), or the problems
/// with them.
#[cfg(feature = "ssr")]
fn flag_input(
    key: Option<String>,
    description: String,
    default_value: &str,
    rollout_percentage: &str,
) -> Result<gatehouse_domain::flags::FlagInput, Vec<Problem>> {
    match (
        switch(default_value, "default_value"),
        rollout(rollout_percentage),
    ) {
        (Ok(default_value), Ok(rollout_percentage)) => Ok(gatehouse_domain::flags::FlagInput {
            key,
            description: Some(description),
            default_value: Some(default_value),
            rollout_percentage: Some(rollout_percentage),
        }),
        (d, r) => Err([d.err(), r.err()].into_iter().flatten().collect()),
    }
}

/// FR-FLAG-001: defines a flag.
#[server(prefix = "/_rpc", endpoint = "define_flag")]
pub async fn define_flag(
    key: String,
    description: String,
    default_value: String,
    #[server(default)] rollout_percentage: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::flags::create_flag;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let key = Some(key.trim().to_owned());
    let input = match flag_input(key, description, &default_value, &rollout_percentage) {
        Ok(input) => input,
        Err(problems) => return Ok(Submitted::Refused(problems)),
    };
    let services = services()?;
    match services
        .apply(create_flag(services.pool(), &ctx, Some(&actor), input).await)
        .await
    {
        Ok(flag) => Ok(Submitted::Done(flag.key)),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "flag_detail")]
pub async fn flag_detail(key: String) -> Result<FlagPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::flags::{flag_history, get_flag};
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page(&format!("/operator/flags/{key}")).await?;
    let pool = pool()?;
    let flag = get_flag(&pool, Some(&actor), key.trim())
        .await
        .map_err(ssr::page_error)?;
    let history = flag_history(&pool, Some(&actor), &flag.key, 200).await?;
    let tenant_ids: Vec<uuid::Uuid> = history.iter().filter_map(|c| c.tenant_id).collect();
    let tenants: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, domain FROM tenants WHERE id = ANY($1)")
            .bind(&tenant_ids)
            .fetch_all(&pool)
            .await
            .map_err(ssr::db)?;
    Ok(FlagPageData {
        flag: ssr::row(flag),
        plans: ssr::plans(),
        history: history
            .into_iter()
            .map(|c| ssr::change(c, &tenants))
            .collect(),
    })
}

/// Changes a flag's description, default and rollout.
#[server(prefix = "/_rpc", endpoint = "edit_flag")]
pub async fn edit_flag(
    key: String,
    description: String,
    default_value: String,
    #[server(default)] rollout_percentage: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::flags::update_flag;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let input = match flag_input(None, description, &default_value, &rollout_percentage) {
        Ok(input) => input,
        Err(problems) => return Ok(Submitted::Refused(problems)),
    };
    let services = services()?;
    match services
        .apply(update_flag(services.pool(), &ctx, Some(&actor), key.trim(), input).await)
        .await
    {
        Ok(flag) => Ok(Submitted::Done(format!("{} is saved.", flag.key))),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

/// Sets a plan's default for a flag (`value=on|off`) or removes it (`value=inherit`).
#[server(prefix = "/_rpc", endpoint = "set_flag_plan_default")]
pub async fn set_flag_plan_default(
    key: String,
    plan: String,
    value: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::types::Plan;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let plan = Plan::parse(&plan)?;
    let value = match value.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "inherit" => None,
        _ => return Err(AppError::invalid("the value is on, off or inherit")),
    };
    let services = services()?;
    let flag = services
        .apply(
            gatehouse_domain::flags::set_plan_default(
                services.pool(),
                &ctx,
                Some(&actor),
                key.trim(),
                plan,
                value,
            )
            .await,
        )
        .await?;
    Ok(match value {
        Some(v) => format!(
            "{} is {} by default on the {} plan.",
            flag.key,
            on_off(v),
            plan.as_str()
        ),
        None => format!(
            "The {} plan no longer sets {}: its default decides.",
            plan.as_str(),
            flag.key
        ),
    })
}

// --- the browser side ---------------------------------------------------------------------

fn value_badge(v: Option<bool>) -> impl IntoView {
    match v {
        Some(b) => view! { <span class=badge(on_off(b))>{title_case(on_off(b))}</span> }.into_any(),
        None => view! { <span class="text-slate-400" title="not set">"—"</span> }.into_any(),
    }
}

#[component]
pub fn FlagsPage() -> impl IntoView {
    let define = ServerAction::<DefineFlag>::new();
    let defined = last_done(define.value());
    let overview = Resource::new_blocking(defined, |_| flags_overview());
    view! {
        <PageTitle text="Feature flags" />
        {when_loaded(overview, None, move |o: FlagsPageData| {
            let stale: Vec<FlagDefRow> = o.flags.iter().filter(|f| f.stale).cloned().collect();
            view! {
                <ListHeader console=OPERATOR_CONSOLE title="Feature flags" subtitle="A flag's value for a tenant: its override, else its plan's default, else a rollout, else the default." />
                {submission_flash(define.value(), "The flag was not defined: see the form below.", |k: String| view! {
                    <DoneFlash testid="defined" message=format!("{k} is defined.")>
                        <a href=format!("/operator/flags/{k}") class=LINK>"Set its plan defaults →"</a>
                    </DoneFlash>
                }.into_any())}
                <div class="space-y-6">
                    <FlagsTable data=o />
                    <StaleFlags flags=stale />
                    <DefineForm action=define />
                </div>
            }
            .into_any()
        })}
    }
}

#[component]
fn FlagsTable(data: FlagsPageData) -> impl IntoView {
    let FlagsPageData { flags, plans } = data;
    let count = flags.len();
    let mut head = columns(&["Flag", "Default", "Rollout"]);
    head.extend(plans.iter().map(|p| Column::new(title_case(p)).center()));
    head.push("Last evaluated".into());
    let rows: Vec<AnyView> = flags
        .into_iter()
        .map(|f| view! {
            <tr data-testid="flag-def-row" data-key=f.key.clone()>
                <td class=TD>
                    <a href=format!("/operator/flags/{}", f.key) class=format!("{LINK} font-mono text-xs font-medium")>{f.key.clone()}</a>
                    <p class="max-w-sm text-xs text-slate-500">{f.description.clone()}</p>
                </td>
                <td class=TD>{value_badge(Some(f.default_value))}</td>
                <td class=format!("{TD} tabular-nums")>{f.rollout_percentage.map(|p| format!("{p}%")).unwrap_or_else(|| "—".into())}</td>
                {f.plan_values.iter().map(|v| view! { <td class=format!("{TD} text-center")>{value_badge(*v)}</td> }).collect_view()}
                <td class=format!("{TD_NOWRAP} text-slate-600")>
                    {f.last_evaluated.clone().unwrap_or_else(|| "Never".into())}
                    {f.stale.then(|| view! { <span class=format!("{} ml-2", badge("expired"))>"Stale"</span> })}
                </td>
            </tr>
        }.into_any())
        .collect();
    view! {
        <Card heading_id="flags-h" title="Definitions and plan defaults" aside=move || in_all(count, None)>
            <DataTable columns=head rows
                empty=|| view! {
                    <EmptyState testid="no-flags" title="No flags yet.">"Define the first one below."</EmptyState>
                } />
        </Card>
    }
}

#[component]
fn StaleFlags(flags: Vec<FlagDefRow>) -> impl IntoView {
    view! {
        <Card heading_id="stale-h" title="Stale flags" testid="stale-flags">
            <p class="mt-1 text-sm text-slate-600">{format!("Never evaluated, or not in the last {STALE_DAYS} days: candidates for removal from the code.")}</p>
            {if flags.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600" data-testid="no-stale">"No stale flags: every flag was evaluated recently."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 divide-y divide-slate-100 text-sm">
                        {flags.into_iter().map(|f| view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="stale-flag">
                                <a href=format!("/operator/flags/{}", f.key) class=format!("{LINK} font-mono text-xs")>{f.key.clone()}</a>
                                <span class="text-slate-600">{f.last_evaluated.clone().map(|t| format!("last evaluated {t}")).unwrap_or_else(|| "never evaluated".into())}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>
    }
}

/// The fields a flag's settings form has (define and edit).
#[component]
fn FlagFields(
    value: MappedSignal<Option<Result<Submitted<String>, AppError>>>,
    #[prop(optional)] current: Option<FlagDefRow>,
) -> impl IntoView {
    let description = current
        .as_ref()
        .map(|f| f.description.clone())
        .unwrap_or_default();
    let default_on = current.as_ref().is_some_and(|f| f.default_value);
    let rollout = current
        .as_ref()
        .and_then(|f| f.rollout_percentage)
        .map(|p| p.to_string())
        .unwrap_or_default();
    view! {
        <Field id="flag-description" label="Description" field="description" problems=problems_with(value, "description") extra="md:col-span-2">
            <input id="flag-description" name="description" maxlength="1000" value=description placeholder="What the flag turns on" class=INPUT aria-describedby="description-error" />
        </Field>
        <Field id="flag-default" label="Default" field="default_value" problems=problems_with(value, "default_value")>
            <select id="flag-default" name="default_value" class=INPUT aria-describedby="default_value-error">
                <option value="off" selected=!default_on>"Off"</option>
                <option value="on" selected=default_on>"On"</option>
            </select>
        </Field>
        <Field id="flag-rollout" label="Rollout (%)" field="rollout_percentage" problems=problems_with(value, "rollout_percentage")>
            <input id="flag-rollout" name="rollout_percentage" inputmode="numeric" value=rollout placeholder="none" class=INPUT aria-describedby="rollout_percentage-hint rollout_percentage-error" />
            <p id="rollout_percentage-hint" class="mt-1 text-xs text-slate-500">"Sticky per user (targeting key) or tenant; used where no override or plan decides. Empty for none."</p>
        </Field>
    }
}

#[component]
fn DefineForm(action: ServerAction<DefineFlag>) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    view! {
        <Card heading_id="define-h" title="Define flag">
            <ActionForm action=action node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="define-form">
                <Field id="flag-key" label="Key" field="key" problems=problems_with(value, "key") extra="md:col-span-2">
                    <input id="flag-key" name="key" required maxlength="100" placeholder="new_checkout" spellcheck="false" autocapitalize="off"
                        class=format!("{INPUT} font-mono") aria-describedby="key-hint key-error" />
                    <p id="key-hint" class="mt-1 text-xs text-slate-500">"Lower-case letters, digits, dots, hyphens and underscores; it cannot change later."</p>
                </Field>
                <FlagFields value />
                <SubmitRow label="Define flag" testid="define-submit" pending=action.pending() extra="md:col-span-2" />
            </ActionForm>
        </Card>
    }
}

// --- /operator/flags/:key -------------------------------------------------------------------

#[component]
pub fn FlagPage() -> impl IntoView {
    let params = use_params_map();
    let edit = ServerAction::<EditFlag>::new();
    let plan = ServerAction::<SetFlagPlanDefault>::new();
    let saved = last_done(edit.value());
    let detail = Resource::new_blocking(
        move || {
            (
                params.read().get("key").unwrap_or_default(),
                saved(),
                plan.version().get(),
            )
        },
        |(key, _, _)| flag_detail(key),
    );
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    Effect::new(move |_| match edit.value().get() {
        Some(Ok(Submitted::Done(m))) => notice.set(Some(Ok(m))),
        Some(Ok(Submitted::Refused(_))) => notice.set(Some(Err(AppError::new(
            "The flag was not saved: see the form.",
        )))),
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    follow_outcome(notice, plan.value());
    view! {
        <PageTitle text="Feature flag" />
        {when_loaded(detail, Some(("/operator/flags", "All flags")), move |d: FlagPageData| view! {
            <Breadcrumb console=OPERATOR_CONSOLE list=("/operator/flags", "Feature flags") />
            {outcome(notice)}
            <FlagView data=d edit plan />
        }.into_any())}
    }
}

#[component]
fn FlagView(
    data: FlagPageData,
    edit: ServerAction<EditFlag>,
    plan: ServerAction<SetFlagPlanDefault>,
) -> impl IntoView {
    let FlagPageData {
        flag,
        plans,
        history,
    } = data;
    let value = edit.value();
    let plan_rows = plans
        .into_iter()
        .zip(flag.plan_values.clone())
        .map(|(p, v)| {
            let key = flag.key.clone();
            let current = match v {
                Some(true) => "on",
                Some(false) => "off",
                None => "inherit",
            };
            let select_id = format!("plan-default-{p}");
            let form_testid = format!("plan-default-form-{p}");
            let save_testid = format!("plan-default-save-{p}");
            view! {
                <li class="py-3">
                    <ActionForm action=plan attr:class="flex flex-wrap items-end justify-between gap-3" attr:data-testid=form_testid>
                        <input type="hidden" name="key" value=key />
                        <input type="hidden" name="plan" value=p.clone() />
                        <div>
                            <label for=select_id.clone() class="block text-sm font-medium">{title_case(&p)}</label>
                            <select id=select_id name="value" class=INPUT>
                                {[("inherit", "Not set (default decides)"), ("on", "On"), ("off", "Off")].into_iter().map(|(v, label)| choice(v, label, current)).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class=SECONDARY data-testid=save_testid>"Save"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    let key = flag.key.clone();
    let lead = if flag.description.is_empty() {
        "No description.".to_owned()
    } else {
        flag.description.clone()
    };
    let (default_value, stale) = (flag.default_value, flag.stale);
    let rollout = flag.rollout_percentage.map(|p| format!(" · rollout {p}%"));
    let evaluated = format!(
        " · last evaluated {}",
        flag.last_evaluated
            .clone()
            .unwrap_or_else(|| "never".into())
    );
    view! {
        <DetailHeader title=flag.key.clone() testid="flag-key" title_class="font-mono" lead>
            "Default " {value_badge(Some(default_value))}
            {rollout}
            {evaluated}
            {stale.then(|| view! { <span class=badge("expired")>"Stale"</span> })}
        </DetailHeader>
        <div class="grid gap-6 lg:grid-cols-2 lg:items-start">
            <Card heading_id="settings-h" title="Settings">
                <ActionForm action=edit attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="edit-form">
                    <input type="hidden" name="key" value=key />
                    <FlagFields value current=flag />
                    <SubmitRow label="Save" testid="edit-submit" pending=edit.pending() extra="md:col-span-2" />
                </ActionForm>
            </Card>
            <Card heading_id="plans-h" title="Plan defaults">
                <p class="mt-1 text-sm text-slate-600">"A plan's value beats the rollout and the default; a tenant's override beats the plan."</p>
                <ul class="mt-4 divide-y divide-slate-100">
                    {plan_rows}
                </ul>
            </Card>
        </div>
        <History history />
    }
}

#[component]
fn History(history: Vec<ChangeRow>) -> impl IntoView {
    let rows: Vec<AnyView> = history
        .into_iter()
        .map(|c| {
            let place = match (c.tenant, c.plan) {
                (Some(t), _) => format!("tenant {t}"),
                (None, Some(p)) => format!("{} plan", title_case(&p)),
                (None, None) => "everywhere".into(),
            };
            view! {
                <tr data-testid="history-row">
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{c.when}</td>
                    <td class=TD>{c.action}</td>
                    <td class=TD>{place}</td>
                    <td class=TD data-testid="history-change">{format!("{} → {}", c.old, c.new)}</td>
                    <td class=TD_NOWRAP>{c.who}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="history-h" title="History" extra="mt-6">
            <p class="mt-1 text-sm text-slate-600">"Every change to this flag, newest first, from the audit trail."</p>
            <DataTable columns=columns(&["When", "Change", "Where", "Old → new", "Who"]) rows
                empty=|| view! { <p class="mt-3 text-sm text-slate-600">"No changes recorded."</p> } />
        </Card>
    }
}
