//! `/admin/subscription` (IF-TENANT-CONSOLE; FR-TENANT-003, FR-BILL-003): the tenant's
//! subscription for its owners and admins — the plan, the flags it gives the tenant and
//! where each value comes from, this month's usage with a chart per event type, and
//! (owners only) a plan change through the operators' domain operation.

use super::usage::{UsageData, UsageReport};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionData {
    pub plan: String,
    pub plans: Vec<String>,
    /// The tenant's flags: key, value, where it comes from.
    pub flags: Vec<(String, bool, String)>,
    pub may_change_plan: bool,
    pub usage: UsageData,
}

#[server(prefix = "/_rpc", endpoint = "tenant_subscription")]
pub async fn tenant_subscription() -> Result<SubscriptionData, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor_of, console_session, tenant_of};
    use gatehouse_domain::permissions::Permission;
    use gatehouse_domain::types::Plan;
    use gatehouse_domain::DomainError;
    // The page's one resource, so it also guards the page.
    let actor = actor_of(&console_session("admin", "/admin/subscription").await?);
    let tenant = tenant_of(&actor)?;
    actor.require_in_tenant(Permission::TenantRead, tenant, "tenant")?;
    let pool = pool()?;
    let rules = gatehouse_domain::flags::tenant_flags(&pool, tenant)
        .await?
        .ok_or_else(|| AppError::from(DomainError::NotFound("tenant")))?;
    let usage = super::usage::ssr::usage_of(&pool, tenant).await?;
    Ok(SubscriptionData {
        plan: rules.plan.as_str().to_owned(),
        plans: Plan::ALL.iter().map(|p| p.as_str().to_owned()).collect(),
        flags: rules
            .evaluate(None)
            .into_iter()
            .map(|f| (f.key, f.value, f.source.as_str().to_owned()))
            .collect(),
        may_change_plan: actor.require(Permission::TenantManagePlan).is_ok(),
        usage,
    })
}

/// FR-TENANT-003: the owner changes the plan (the same domain operation operators use).
#[server(prefix = "/_rpc", endpoint = "change_own_plan")]
pub async fn change_own_plan(plan: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use crate::ui::ssr::actor;
    use gatehouse_domain::types::Plan;
    let actor = actor().await?;
    let tenant = crate::ui::ssr::tenant_of(&actor)?;
    let (ctx, _) = request().await?;
    let plan = Plan::parse(&plan)?;
    let services = services()?;
    let t = services
        .apply(
            gatehouse_domain::tenants::change_plan(
                services.pool(),
                &ctx,
                Some(&actor),
                tenant,
                plan,
            )
            .await,
        )
        .await?;
    Ok(format!(
        "Your organisation is on the {} plan now.",
        t.plan.as_str()
    ))
}

// --- the browser side ---------------------------------------------------------------------

/// What an owner or admin reads when the tenant has no usage.
const TENANT_HINT: &str = "Usage shows here once the applications your organisation uses \
     report it to Gatehouse through the Billing API.";

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let change = ServerAction::<ChangeOwnPlan>::new();
    let page = Resource::new_blocking(move || change.version().get(), |_| tenant_subscription());
    view! {
        <PageTitle text="Subscription" />
        {when_loaded(page, None, move |s: SubscriptionData| view! {
            <ListHeader console=TENANT_ADMINISTRATION title="Subscription" subtitle="Your plan, what it gives your organisation, and this month's usage." />
            {outcome(change.value())}
            <div class="grid gap-6 lg:grid-cols-5 lg:items-start">
                <PlanCard plan=s.plan plans=s.plans may_change_plan=s.may_change_plan action=change />
                <PlanFlags flags=s.flags />
            </div>
            <Card heading_id="usage-h" title="Usage" extra="mt-6" testid="subscription-usage"
                aside=|| view! { <span class="text-sm text-slate-500">"UTC days"</span> }>
                <UsageReport data=s.usage empty_hint=TENANT_HINT />
            </Card>
        }.into_any())}
    }
}

/// The plan, and the plan change for owners.
#[component]
fn PlanCard(
    plan: String,
    plans: Vec<String>,
    may_change_plan: bool,
    action: ServerAction<ChangeOwnPlan>,
) -> impl IntoView {
    let current = plan.clone();
    view! {
        <Card heading_id="plan-h" title="Plan" extra="lg:col-span-2">
            <p class="mt-3 flex flex-wrap items-center gap-2 text-sm">
                "Your organisation is on the"
                <span class=badge(&plan) data-testid="current-plan">{title_case(&plan)}</span>
                "plan."
            </p>
            <p class="mt-2 text-sm text-slate-600">
                "The plan switches features on or off for everyone in your organisation. Features set for you by the Gatehouse operators stay as they are."
            </p>
            {if may_change_plan {
                view! {
                    <ActionForm action=action attr:class="mt-6 flex flex-wrap items-end gap-2" attr:data-testid="own-plan-form">
                        <div>
                            <label for="own-plan" class="block text-sm font-medium">"Change plan"</label>
                            <select id="own-plan" name="plan" class=INPUT>
                                {plans.into_iter().map(|p| choice(p.clone(), title_case(&p), &current)).collect_view()}
                            </select>
                        </div>
                        <ConfirmSubmit label="Change plan" testid="own-plan" confirm="Change your organisation's plan?".to_owned() />
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p class="mt-6 text-sm text-slate-600" data-testid="owners-only">"Only owners change the plan."</p> }.into_any()
            }}
        </Card>
    }
}

/// A flag value's source in the tenant's words.
fn decided_by(source: &str) -> &'static str {
    match source {
        "override" => "set for you",
        "plan" => "your plan",
        "rollout" => "rollout",
        _ => "default",
    }
}

/// The tenant's flags: value and source.
#[component]
fn PlanFlags(flags: Vec<(String, bool, String)>) -> impl IntoView {
    view! {
        <Card heading_id="plan-flags-h" title="What your organisation has" extra="lg:col-span-3">
            {if flags.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600">"No features are switched by plan yet."</p> }.into_any()
            } else {
                view! {
                    <p class="mt-1 text-sm text-slate-600">"Each feature, and what decides it: your plan, a setting made for you, a gradual rollout or the default."</p>
                    <ul class="mt-3 divide-y divide-slate-100 text-sm" data-testid="plan-flags">
                        {flags.into_iter().map(|(key, on, source)| view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                <span class="font-mono text-xs">{key}</span>
                                <span class="flex items-center gap-2">
                                    <span class=badge(on_off(on))>{title_case(on_off(on))}</span>
                                    <span class="w-24 text-xs text-slate-500">{decided_by(&source)}</span>
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>
    }
}
