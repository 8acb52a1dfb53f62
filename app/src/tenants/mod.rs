//! `/operator/tenants` and `/operator/tenants/:id` (SPEC §2, §6; UC-PROV-001,
//! UC-TENANT-SUSPEND, FR-OPS-001, FR-FLAG-001): the Operator Console's tenants — a list with
//! search, filters and cursor pages; provisioning (tenant, invited owner, plan, applications
//! in one transaction); a tenant's page with its owners, user counts, effective flags and
//! where each value comes from, per-tenant overrides, applications and recent audit
//! entries; suspension with a reason and reactivation; plan changes.
//!
//! Every server function authenticates itself and hands the signed-in person to the domain
//! as the actor; the domain refuses everyone but operators.

pub mod settings;

use crate::error::AppError;
use crate::layout::{Flash, PageHeader, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// One tenant in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub plan: String,
    pub status: String,
    pub created: String,
}

/// An application the provisioning form can enable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppChoice {
    pub id: String,
    pub name: String,
    pub environment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantsPageData {
    pub tenants: Vec<TenantRow>,
    pub next_cursor: Option<String>,
    pub plans: Vec<String>,
    pub applications: Vec<AppChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioned {
    pub id: String,
    pub name: String,
    pub owner_email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub last_login: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagRow {
    pub key: String,
    pub description: String,
    pub value: bool,
    pub source: String,
    pub override_value: Option<bool>,
    pub plan_value: Option<bool>,
    pub default_value: bool,
    pub rollout_percentage: Option<i16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub when: String,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub resource: Option<String>,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantPageData {
    pub tenant: TenantRow,
    pub suspended: Option<String>,
    pub owners: Vec<PersonRow>,
    pub users_by_status: Vec<(String, i64)>,
    pub flags: Vec<FlagRow>,
    pub applications: Vec<AppChoice>,
    pub app_statuses: Vec<String>,
    pub recent: Vec<AuditRow>,
    pub plans: Vec<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{AuditRow, TenantRow};
    use crate::error::AppError;
    pub use crate::ui::ssr::{actor, operator_for_page, when};
    use gatehouse_domain::audit::AuditLine;
    use gatehouse_domain::tenants::Tenant;
    use gatehouse_domain::DomainError;

    const NOT_FOUND: &str = "There is no tenant with this ID.";

    pub fn tenant_id(raw: &str) -> Result<uuid::Uuid, AppError> {
        crate::ui::ssr::id_of(raw, "tenant", NOT_FOUND)
    }

    pub fn page_error(err: DomainError) -> AppError {
        crate::ui::ssr::not_found_as(err, NOT_FOUND)
    }

    pub fn tenant_row(t: Tenant) -> TenantRow {
        TenantRow {
            id: t.id.to_string(),
            name: t.name,
            domain: t.domain,
            plan: t.plan.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            created: when(t.created_at),
        }
    }

    pub fn audit_row(l: AuditLine) -> AuditRow {
        AuditRow {
            when: when(l.occurred_at),
            action: l.action,
            outcome: l.outcome,
            actor: l.actor_email.unwrap_or(l.actor_type),
            resource: l.resource,
            tenant: l.tenant_domain,
        }
    }

    pub fn plans() -> Vec<String> {
        gatehouse_domain::types::Plan::ALL
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect()
    }
}

#[server(prefix = "/_rpc", endpoint = "tenants_overview")]
pub async fn tenants_overview(
    #[server(default)] q: String,
    #[server(default)] status: String,
    #[server(default)] plan: String,
    #[server(default)] cursor: String,
) -> Result<TenantsPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::apps::list_applications;
    use gatehouse_domain::tenants::{list_tenants, TenantQuery};
    use gatehouse_domain::types::{Plan, TenantStatus};
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page("/operator/tenants").await?;
    let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = TenantQuery {
        search: given(&q),
        status: given(&status)
            .map(|s| TenantStatus::parse(&s))
            .transpose()?,
        plan: given(&plan).map(|p| Plan::parse(&p)).transpose()?,
        cursor: given(&cursor),
        limit: 25,
    };
    let pool = pool()?;
    let page = list_tenants(&pool, Some(&actor), query).await?;
    let applications = list_applications(&pool, Some(&actor)).await?;
    Ok(TenantsPageData {
        tenants: page.data.into_iter().map(ssr::tenant_row).collect(),
        next_cursor: page.next_cursor,
        plans: ssr::plans(),
        applications: applications
            .into_iter()
            .filter(|a| a.status == "active")
            .map(|a| AppChoice {
                id: a.id.to_string(),
                name: a.name,
                environment: a.environment,
            })
            .collect(),
    })
}

/// UC-PROV-001: the tenant, its owner invited by email, its plan and applications, in one
/// transaction; a refusal names the field and creates nothing.
#[server(prefix = "/_rpc", endpoint = "provision_tenant")]
pub async fn provision_tenant(
    name: String,
    domain: String,
    plan: String,
    owner_email: String,
    #[server(default)] applications: Vec<String>,
) -> Result<Submitted<Provisioned>, AppError> {
    use crate::auth::ssr::{request, services, web_config};
    use gatehouse_domain::tenants::{provision_with_owner, Provisioning};
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let mut apps = Vec::with_capacity(applications.len());
    for (i, raw) in applications.iter().enumerate() {
        match uuid::Uuid::parse_str(raw.trim()) {
            Ok(id) => apps.push(id),
            Err(_) => {
                return Ok(Submitted::Refused(vec![Problem {
                    field: "applications".into(),
                    message: format!("application {} is not known", i + 1),
                }]))
            }
        }
    }
    let input = match Provisioning::parse(
        Some(&name),
        Some(&domain),
        Some(&plan),
        Some(&owner_email),
        apps,
    ) {
        Ok(input) => input,
        Err(e) => return crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    };
    let owner_email = input.owner_email.as_str().to_owned();
    let base_url = web_config()?.public_url;
    let services = services()?;
    match services
        .apply(provision_with_owner(services.pool(), &ctx, Some(&actor), input, &base_url).await)
        .await
    {
        Ok(tenant) => Ok(Submitted::Done(Provisioned {
            id: tenant.id.to_string(),
            name: tenant.name,
            owner_email,
        })),
        // Dropping the transaction rolls back whatever was written before the refusal.
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "tenant_detail")]
pub async fn tenant_detail(id: String) -> Result<TenantPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::tenants::tenant_overview;
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page(&format!("/operator/tenants/{id}")).await?;
    let id = ssr::tenant_id(&id)?;
    let o = tenant_overview(&pool()?, Some(&actor), id)
        .await
        .map_err(ssr::page_error)?;
    Ok(TenantPageData {
        tenant: ssr::tenant_row(o.tenant),
        suspended: o.suspended_at.map(ssr::when),
        owners: o
            .owners
            .into_iter()
            .map(|p| PersonRow {
                id: p.id.to_string(),
                email: p.email,
                name: p.name,
                status: p.status,
                last_login: p.last_login_at.map(ssr::when),
            })
            .collect(),
        users_by_status: o
            .users_by_status
            .into_iter()
            .map(|c| (c.label, c.count))
            .collect(),
        flags: o
            .flags
            .into_iter()
            .map(|f| FlagRow {
                key: f.key,
                description: f.description,
                value: f.value,
                source: f.source.as_str().to_owned(),
                override_value: f.override_value,
                plan_value: f.plan_value,
                default_value: f.default_value,
                rollout_percentage: f.rollout_percentage,
            })
            .collect(),
        app_statuses: o.applications.iter().map(|a| a.status.clone()).collect(),
        applications: o
            .applications
            .into_iter()
            .map(|a| AppChoice {
                id: a.id.to_string(),
                name: a.name,
                environment: a.environment,
            })
            .collect(),
        recent: o.recent.into_iter().map(ssr::audit_row).collect(),
        plans: ssr::plans(),
    })
}

/// UC-TENANT-SUSPEND / FR-OPS-001: `status=suspended` (with an optional reason) or
/// `status=active`.
#[server(prefix = "/_rpc", endpoint = "set_tenant_status")]
pub async fn set_tenant_status(
    id: String,
    status: String,
    #[server(default)] reason: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::tenants::{reactivate_tenant, suspend_tenant};
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::tenant_id(&id)?;
    let services = services()?;
    let message = match status.as_str() {
        "suspended" => {
            let t = services
                .apply(suspend_tenant(services.pool(), &ctx, Some(&actor), id, Some(&reason)).await)
                .await?;
            format!(
                "{} is suspended: its sessions and tokens have ended and sign-ins are refused.",
                t.name
            )
        }
        "active" => {
            let t = services
                .apply(reactivate_tenant(services.pool(), &ctx, Some(&actor), id).await)
                .await?;
            format!("{} is active again: its people can sign in.", t.name)
        }
        _ => return Err(AppError::invalid("the status is active or suspended")),
    };
    Ok(message)
}

/// Changes a tenant's plan: the plan's flag defaults apply, overrides stay.
#[server(prefix = "/_rpc", endpoint = "change_tenant_plan")]
pub async fn change_tenant_plan(id: String, plan: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::types::Plan;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::tenant_id(&id)?;
    let plan = Plan::parse(&plan)?;
    let services = services()?;
    let t = services
        .apply(
            gatehouse_domain::tenants::change_plan(services.pool(), &ctx, Some(&actor), id, plan)
                .await,
        )
        .await?;
    Ok(format!(
        "{} is on the {} plan now. Its overrides are unchanged.",
        t.name,
        t.plan.as_str()
    ))
}

/// Sets a tenant's override of a flag (`value=on|off`) or clears it (`value=clear`).
#[server(prefix = "/_rpc", endpoint = "set_tenant_flag_override")]
pub async fn set_tenant_flag_override(
    tenant_id: String,
    key: String,
    value: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::tenant_id(&tenant_id)?;
    let value = match value.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "clear" => None,
        _ => return Err(AppError::invalid("the value is on, off or clear")),
    };
    let key = key.trim();
    let services = services()?;
    services
        .apply(
            gatehouse_domain::flags::set_override(
                services.pool(),
                &ctx,
                Some(&actor),
                id,
                key,
                value,
            )
            .await,
        )
        .await?;
    Ok(match value {
        Some(v) => format!("{key} is overridden to {} for this tenant.", on_off(v)),
        None => format!("The override of {key} is cleared: the plan or default decides again."),
    })
}

// --- the browser side ---------------------------------------------------------------------

/// The filter values of the list page's URL.
fn filter(query: &leptos_router::params::ParamsMap, name: &str) -> String {
    query.get(name).unwrap_or_default()
}

#[component]
pub fn TenantsPage() -> impl IntoView {
    view! {
        <PageTitle text="Tenants" />
        <TenantsBody />
    }
}

#[component]
fn TenantsBody() -> impl IntoView {
    let query = use_query_map();
    let provision = ServerAction::<ProvisionTenant>::new();
    let provisioned = move || match provision.value().get() {
        Some(Ok(Submitted::Done(p))) => Some(p.id),
        _ => None,
    };
    let overview = Resource::new_blocking(
        move || {
            let q = query.read();
            (
                filter(&q, "q"),
                filter(&q, "status"),
                filter(&q, "plan"),
                filter(&q, "cursor"),
                provisioned(),
            )
        },
        |(q, status, plan, cursor, _)| tenants_overview(q, status, plan, cursor),
    );
    let flash = move || {
        provision.value().get().map(|r| match r {
            Ok(Submitted::Done(p)) => view! {
                <div class="mb-4 flex flex-wrap items-center gap-3" data-testid="provisioned">
                    <Flash message=format!("{} is provisioned. The invitation went to {}.", p.name, p.owner_email) />
                    <a href=format!("/operator/tenants/{}", p.id) class=LINK data-testid="open-provisioned">"Open the tenant →"</a>
                </div>
            }
            .into_any(),
            Ok(Submitted::Refused(_)) => view! {
                <div class="mb-4"><Flash message="The tenant was not provisioned: see the form below." error=true /></div>
            }
            .into_any(),
            Err(e) => view! { <div class="mb-4"><Flash message=e.message error=true /></div> }.into_any(),
        })
    };
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || overview.get().map(|o| match o {
                Err(e) => view! { <Refused message=e.message back=("/operator/tenants", "All tenants") /> }.into_any(),
                Ok(o) => {
                    let q = query.read_untracked();
                    view! {
                        <nav aria-label="Breadcrumb" class="mb-2 text-sm text-slate-500">
                            <a href="/operator" class=LINK>"Operator Console"</a>
                            " / Tenants"
                        </nav>
                        <PageHeader title="Tenants" subtitle="Search, provision, suspend and reactivate tenants; change plans." />
                        {flash}
                        <div class="space-y-6">
                            <TenantsTable
                                data=o.clone()
                                q=filter(&q, "q")
                                status=filter(&q, "status")
                                plan=filter(&q, "plan")
                                paged=!filter(&q, "cursor").is_empty()
                            />
                            <ProvisionForm action=provision plans=o.plans.clone() applications=o.applications.clone() />
                        </div>
                    }
                    .into_any()
                }
            })}
        </Transition>
    }
}

/// The search and filter form (a GET form: the URL holds the filters) and the table.
#[component]
fn TenantsTable(
    data: TenantsPageData,
    q: String,
    status: String,
    plan: String,
    paged: bool,
) -> impl IntoView {
    let filtered = !(q.is_empty() && status.is_empty() && plan.is_empty());
    let filters = [("q", q.as_str()), ("status", &status), ("plan", &plan)];
    let next = data.next_cursor.clone().map(|c| {
        let [a, b, d] = filters;
        format!(
            "/operator/tenants{}",
            query_string(&[a, b, d, ("cursor", &c)])
        )
    });
    let first = format!("/operator/tenants{}", query_string(&filters));
    let option = |value: &str, label: String, current: &str| {
        let selected = value == current;
        view! { <option value=value.to_owned() selected=selected>{label}</option> }
    };
    view! {
        <section class=CARD aria-labelledby="tenants-h">
            <h2 id="tenants-h" class="text-lg font-semibold">"All tenants"</h2>
            <form method="get" action="/operator/tenants" class="mt-4 flex flex-wrap items-end gap-3" role="search" data-testid="tenant-filters">
                <div class="min-w-[14rem] flex-1">
                    <label for="tenant-q" class="block text-sm font-medium">"Search"</label>
                    <input id="tenant-q" name="q" type="search" value=q.clone() placeholder="Name or domain" class=INPUT />
                </div>
                <div>
                    <label for="tenant-status" class="block text-sm font-medium">"Status"</label>
                    <select id="tenant-status" name="status" class=INPUT>
                        {option("", "Any status".into(), &status)}
                        {option("active", "Active".into(), &status)}
                        {option("suspended", "Suspended".into(), &status)}
                    </select>
                </div>
                <div>
                    <label for="tenant-plan" class="block text-sm font-medium">"Plan"</label>
                    <select id="tenant-plan" name="plan" class=INPUT>
                        {option("", "Any plan".into(), &plan)}
                        {data.plans.iter().map(|p| option(p, title_case(p), &plan)).collect_view()}
                    </select>
                </div>
                <button type="submit" class=BUTTON data-testid="filter-submit">"Search"</button>
                {filtered.then(|| view! { <a href="/operator/tenants" class=format!("{LINK} py-2 text-sm")>"Clear filters"</a> })}
            </form>
            {if data.tenants.is_empty() {
                view! {
                    <div class="mt-4 rounded-md border border-dashed border-slate-300 p-6 text-center" data-testid="no-tenants">
                        {if filtered {
                            view! {
                                <p class="font-medium text-slate-700">"No tenant matches these filters."</p>
                                <p class="mt-1 text-sm"><a href="/operator/tenants" class=LINK>"Show all tenants"</a></p>
                            }.into_any()
                        } else {
                            view! {
                                <p class="font-medium text-slate-700">"No tenants yet."</p>
                                <p class="mt-1 text-sm text-slate-600">"Provision the first one below."</p>
                            }.into_any()
                        }}
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="mt-4 overflow-x-auto">
                        <table class="w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-500">
                                <tr>
                                    <th scope="col" class=TH>"Name"</th>
                                    <th scope="col" class=TH>"Domain"</th>
                                    <th scope="col" class=TH>"Plan"</th>
                                    <th scope="col" class=TH>"Status"</th>
                                    <th scope="col" class=TH>"Created"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {data.tenants.into_iter().map(|t| view! {
                                    <tr data-testid="tenant-row" data-domain=t.domain.clone()>
                                        <td class=TD>
                                            <a href=format!("/operator/tenants/{}", t.id) class=format!("{LINK} font-medium")>{t.name.clone()}</a>
                                        </td>
                                        <td class=format!("{TD} font-mono text-xs")>{t.domain.clone()}</td>
                                        <td class=TD><span class=badge(&t.plan)>{title_case(&t.plan)}</span></td>
                                        <td class=TD><span class=badge(&t.status) data-testid="tenant-status">{title_case(&t.status)}</span></td>
                                        <td class=format!("{TD} whitespace-nowrap text-slate-600")>{t.created.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
                <span>{paged.then(|| view! { <a href=first.clone() class=LINK data-testid="first-page">"← First page"</a> })}</span>
                <span>{next.map(|n| view! { <a href=n class=LINK data-testid="next-page">"Next page →"</a> })}</span>
            </nav>
        </section>
    }
}

#[component]
fn ProvisionForm(
    action: ServerAction<ProvisionTenant>,
    plans: Vec<String>,
    applications: Vec<AppChoice>,
) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    let invalid = move |field: &'static str| {
        let problems = problems_with(value, field);
        move || (!problems().is_empty()).to_string()
    };
    view! {
        <section class=CARD aria-labelledby="provision-h">
            <h2 id="provision-h" class="text-lg font-semibold">"Provision tenant"</h2>
            <p class="mt-1 text-sm text-slate-600">"Creates the tenant and invites its owner by email, in one step. The plan's flags apply at once."</p>
            <ActionForm action=action node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="provision-form">
                <div>
                    <label for="tenant-name" class="block text-sm font-medium">"Name"</label>
                    <input id="tenant-name" name="name" required maxlength="200" placeholder="Globex Corporation" class=INPUT
                        aria-invalid=invalid("name") aria-describedby="name-error" />
                    <FieldProblems field="name" problems=problems_with(value, "name") />
                </div>
                <div>
                    <label for="tenant-domain" class="block text-sm font-medium">"Domain"</label>
                    <input id="tenant-domain" name="domain" required maxlength="63" placeholder="globex" spellcheck="false" autocapitalize="off"
                        class=format!("{INPUT} font-mono") aria-invalid=invalid("domain") aria-describedby="domain-hint domain-error" />
                    <p id="domain-hint" class="mt-1 text-xs text-slate-500">"Lower-case letters, digits and hyphens; used in /t/{domain}/login."</p>
                    <FieldProblems field="domain" problems=problems_with(value, "domain") />
                </div>
                <div>
                    <label for="tenant-plan-new" class="block text-sm font-medium">"Plan"</label>
                    <select id="tenant-plan-new" name="plan" class=INPUT aria-invalid=invalid("plan") aria-describedby="plan-error">
                        {plans.into_iter().map(|p| view! { <option value=p.clone()>{title_case(&p)}</option> }).collect_view()}
                    </select>
                    <FieldProblems field="plan" problems=problems_with(value, "plan") />
                </div>
                <div>
                    <label for="tenant-owner" class="block text-sm font-medium">"Owner email"</label>
                    <input id="tenant-owner" name="owner_email" type="email" required placeholder="owner@globex.example" class=INPUT
                        aria-invalid=invalid("owner_email") aria-describedby="owner_email-error" />
                    <FieldProblems field="owner_email" problems=problems_with(value, "owner_email") />
                </div>
                <fieldset class="md:col-span-2" aria-describedby="applications-error">
                    <legend class="block text-sm font-medium">"Applications to enable"</legend>
                    {if applications.is_empty() {
                        view! { <p class="mt-1 text-sm text-slate-500">"No active applications are registered."</p> }.into_any()
                    } else {
                        view! {
                            <div class="mt-2 grid gap-1 sm:grid-cols-2">
                                {applications.into_iter().map(|a| {
                                    let id = format!("app-{}", a.id);
                                    view! {
                                        <label class="flex items-center gap-2 text-sm">
                                            <input id=id type="checkbox" name="applications[]" value=a.id.clone()
                                                class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                                            <span>{a.name.clone()}</span>
                                            <span class=badge(&a.environment)>{title_case(&a.environment)}</span>
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                        }.into_any()
                    }}
                    <FieldProblems field="applications" problems=problems_with(value, "applications") />
                </fieldset>
                <div class="md:col-span-2">
                    <button type="submit" class=BUTTON data-testid="provision-submit" disabled=move || action.pending().get()>"Provision tenant"</button>
                </div>
            </ActionForm>
        </section>
    }
}

// --- /operator/tenants/:id ------------------------------------------------------------------

#[component]
pub fn TenantPage() -> impl IntoView {
    view! {
        <PageTitle text="Tenant" />
        <TenantBody />
    }
}

#[component]
fn TenantBody() -> impl IntoView {
    let params = use_params_map();
    let status = ServerAction::<SetTenantStatus>::new();
    let plan = ServerAction::<ChangeTenantPlan>::new();
    let flag = ServerAction::<SetTenantFlagOverride>::new();
    let detail = Resource::new_blocking(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                status.version().get(),
                plan.version().get(),
                flag.version().get(),
            )
        },
        |(id, _, _, _)| tenant_detail(id),
    );
    // One flash line: the outcome of the latest action.
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    Effect::new(move |_| {
        if let Some(r) = status.value().get() {
            notice.set(Some(r));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = plan.value().get() {
            notice.set(Some(r));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = flag.value().get() {
            notice.set(Some(r));
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || detail.get().map(|d| match d {
                Err(e) => view! { <Refused message=e.message back=("/operator/tenants", "All tenants") /> }.into_any(),
                Ok(d) => view! {
                    <nav aria-label="Breadcrumb" class="mb-2 text-sm text-slate-500">
                        <a href="/operator" class=LINK>"Operator Console"</a>
                        " / "
                        <a href="/operator/tenants" class=LINK>"Tenants"</a>
                    </nav>
                    {outcome(notice)}
                    <TenantView detail=d status plan flag />
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn TenantView(
    detail: TenantPageData,
    status: ServerAction<SetTenantStatus>,
    plan: ServerAction<ChangeTenantPlan>,
    flag: ServerAction<SetTenantFlagOverride>,
) -> impl IntoView {
    let TenantPageData {
        tenant,
        suspended,
        owners,
        users_by_status,
        flags,
        applications,
        app_statuses,
        recent,
        plans,
    } = detail;
    let active = tenant.status == "active";
    let id = tenant.id.clone();
    let plan_id = tenant.id.clone();
    let flags_id = tenant.id.clone();
    let users_total: i64 = users_by_status
        .iter()
        .filter(|(s, _)| s != "archived")
        .map(|(_, n)| n)
        .sum();
    view! {
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight" data-testid="tenant-name">{tenant.name.clone()}</h1>
                <p class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                    <span class="font-mono text-slate-700">{tenant.domain.clone()}</span>
                    <span class=badge(&tenant.plan) data-testid="tenant-plan">{title_case(&tenant.plan)}</span>
                    <span class=badge(&tenant.status) data-testid="tenant-status">{title_case(&tenant.status)}</span>
                    <span class="text-slate-600">{format!("created {}", tenant.created)}</span>
                </p>
            </div>
            <ActionForm action=status attr:class="flex flex-wrap items-end justify-end gap-2">
                <input type="hidden" name="id" value=id />
                {if active {
                    view! {
                        <input type="hidden" name="status" value="suspended" />
                        <div>
                            <label for="suspend-reason" class="block text-xs font-medium text-slate-600">"Reason (optional)"</label>
                            <input id="suspend-reason" name="reason" maxlength="500" placeholder="Unpaid invoice" class="mt-1 block w-56 rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500" />
                        </div>
                        <ConfirmSubmit label="Suspend" danger=true testid="suspend-tenant"
                            confirm="Suspend it? Every session and token of the tenant ends at once and sign-ins are refused.".to_owned() />
                    }.into_any()
                } else {
                    view! {
                        <input type="hidden" name="status" value="active" />
                        <ConfirmSubmit label="Reactivate" testid="reactivate-tenant" confirm="Reactivate it? Its people can sign in again.".to_owned() />
                    }.into_any()
                }}
            </ActionForm>
        </div>
        {suspended.map(|at| view! {
            <p role="note" class="mb-6 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="suspended-note">
                {format!("Suspended since {at}: sign-ins, sessions, tokens and flag requests of this tenant are refused.")}
            </p>
        })}
        <div class="grid gap-6 lg:grid-cols-3 lg:items-start">
            <section class=CARD aria-labelledby="owners-h">
                <h2 id="owners-h" class="text-lg font-semibold">"Owners"</h2>
                {if owners.is_empty() {
                    view! { <p class="mt-3 text-sm text-slate-600">"No owner yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-3 space-y-2 text-sm" data-testid="owners">
                            {owners.into_iter().map(|p| view! {
                                <li>
                                    <p class="font-medium break-all">{p.email.clone()}</p>
                                    <p class="flex flex-wrap items-center gap-2 text-slate-600">
                                        <span class=badge(&p.status)>{title_case(&p.status)}</span>
                                        {p.name.clone()}
                                        <span class="text-xs">{p.last_login.clone().map(|l| format!("last sign-in {l}")).unwrap_or_else(|| "never signed in".into())}</span>
                                    </p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class=CARD aria-labelledby="people-h">
                <h2 id="people-h" class="text-lg font-semibold">"People"</h2>
                <p class="mt-1 text-sm text-slate-600" data-testid="users-total">{format!("{users_total} not archived")}</p>
                <dl class="mt-3 grid grid-cols-2 gap-2 text-sm">
                    {["active", "invited", "disabled", "archived"].into_iter().map(|s| {
                        let n = users_by_status.iter().find(|(l, _)| l == s).map(|(_, n)| *n).unwrap_or(0);
                        view! {
                            <div class="rounded-md bg-slate-50 px-3 py-2">
                                <dt class="text-slate-500">{title_case(s)}</dt>
                                <dd class="text-lg font-semibold tabular-nums" data-testid=format!("users-{s}")>{n}</dd>
                            </div>
                        }
                    }).collect_view()}
                </dl>
            </section>
            <section class=CARD aria-labelledby="plan-h">
                <h2 id="plan-h" class="text-lg font-semibold">"Plan"</h2>
                <p class="mt-1 text-sm text-slate-600">"The plan's flag defaults apply; overrides stay as they are."</p>
                <ActionForm action=plan attr:class="mt-3 flex flex-wrap items-end gap-2" attr:data-testid="plan-form">
                    <input type="hidden" name="id" value=plan_id />
                    <div>
                        <label for="tenant-plan-change" class="block text-sm font-medium">"Plan"</label>
                        <select id="tenant-plan-change" name="plan" class=INPUT>
                            {plans.into_iter().map(|p| {
                                let selected = p == tenant.plan;
                                view! { <option value=p.clone() selected=selected>{title_case(&p)}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class=BUTTON data-testid="plan-submit" disabled=move || plan.pending().get()>"Change plan"</button>
                </ActionForm>
                <h3 class="mt-6 text-sm font-semibold">"Applications enabled"</h3>
                {if applications.is_empty() {
                    view! { <p class="mt-1 text-sm text-slate-600">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-1 space-y-1 text-sm">
                            {applications.into_iter().zip(app_statuses).map(|(a, s)| view! {
                                <li class="flex flex-wrap items-center gap-2">
                                    <a href=format!("/operator/applications/{}", a.id) class=LINK>{a.name.clone()}</a>
                                    <span class=badge(&a.environment)>{title_case(&a.environment)}</span>
                                    {(s != "active").then(|| view! { <span class=badge(&s)>{title_case(&s)}</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <TenantFlags flags tenant_id=flags_id action=flag />
        <RecentAudit entries=recent />
    }
}

/// The effective flags with their source, and the override controls.
#[component]
fn TenantFlags(
    flags: Vec<FlagRow>,
    tenant_id: String,
    action: ServerAction<SetTenantFlagOverride>,
) -> impl IntoView {
    view! {
        <section class=format!("{CARD} mt-6") aria-labelledby="flags-h">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="flags-h" class="text-lg font-semibold">"Feature flags"</h2>
                <a href="/operator/flags" class=format!("{LINK} text-sm")>"All flag definitions →"</a>
            </div>
            <p class="mt-1 text-sm text-slate-600">"The value each flag has for this tenant, and where it comes from: an override, the plan, a rollout or the default."</p>
            {if flags.is_empty() {
                view! { <p class="mt-4 rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-600">"No flags are defined yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-4 overflow-x-auto">
                        <table class="w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-500">
                                <tr>
                                    <th scope="col" class=TH>"Flag"</th>
                                    <th scope="col" class=TH>"Value"</th>
                                    <th scope="col" class=TH>"Source"</th>
                                    <th scope="col" class=TH>"Plan / default"</th>
                                    <th scope="col" class=TH>"Override"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {flags.into_iter().map(|f| {
                                    let tenant_id = tenant_id.clone();
                                    let key = f.key.clone();
                                    let below = match (f.plan_value, f.rollout_percentage) {
                                        (Some(v), _) => format!("plan: {}", on_off(v)),
                                        (None, Some(p)) => format!("rollout {p}% · default {}", on_off(f.default_value)),
                                        (None, None) => format!("default: {}", on_off(f.default_value)),
                                    };
                                    let form = move |value: &'static str, label: &'static str, current: bool| {
                                        let tenant_id = tenant_id.clone();
                                        let key = key.clone();
                                        view! {
                                            <ActionForm action=action attr:class="inline">
                                                <input type="hidden" name="tenant_id" value=tenant_id />
                                                <input type="hidden" name="key" value=key.clone() />
                                                <input type="hidden" name="value" value=value />
                                                <button type="submit" class=SECONDARY disabled=current
                                                    aria-pressed=current.to_string()
                                                    data-testid=format!("override-{value}-{key}")>{label}</button>
                                            </ActionForm>
                                        }
                                    };
                                    view! {
                                        <tr data-testid="flag-row" data-key=f.key.clone()>
                                            <td class=TD>
                                                <a href=format!("/operator/flags/{}", f.key) class=format!("{LINK} font-mono text-xs")>{f.key.clone()}</a>
                                                <p class="text-xs text-slate-500">{f.description.clone()}</p>
                                            </td>
                                            <td class=TD><span class=badge(on_off(f.value)) data-testid="flag-value">{title_case(on_off(f.value))}</span></td>
                                            <td class=TD><span class=badge(&f.source) data-testid="flag-source">{title_case(&f.source)}</span></td>
                                            <td class=format!("{TD} text-slate-600")>{below}</td>
                                            <td class=TD>
                                                <div class="flex flex-wrap gap-1">
                                                    {form("on", "Force on", f.override_value == Some(true))}
                                                    {form("off", "Force off", f.override_value == Some(false))}
                                                    {form("clear", "Clear", f.override_value.is_none())}
                                                </div>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Recent audit entries (the dashboard's and a tenant's).
#[component]
pub fn RecentAudit(entries: Vec<AuditRow>, #[prop(optional)] with_tenant: bool) -> impl IntoView {
    view! {
        <section class=format!("{CARD} mt-6") aria-labelledby="recent-h">
            <h2 id="recent-h" class="text-lg font-semibold">"Recent audit entries"</h2>
            {if entries.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600">"Nothing recorded yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-4 overflow-x-auto">
                        <table class="w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-500">
                                <tr>
                                    <th scope="col" class=TH>"When"</th>
                                    <th scope="col" class=TH>"Action"</th>
                                    <th scope="col" class=TH>"Outcome"</th>
                                    <th scope="col" class=TH>"Actor"</th>
                                    {with_tenant.then(|| view! { <th scope="col" class=TH>"Tenant"</th> })}
                                    <th scope="col" class=TH>"Resource"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {entries.into_iter().map(|e| view! {
                                    <tr data-testid="audit-row">
                                        <td class=format!("{TD} whitespace-nowrap text-slate-600")>{e.when.clone()}</td>
                                        <td class=format!("{TD} font-mono text-xs")>{e.action.clone()}</td>
                                        <td class=TD><span class=badge(&e.outcome)>{title_case(&e.outcome)}</span></td>
                                        <td class=format!("{TD} break-all")>{e.actor.clone()}</td>
                                        {with_tenant.then(|| view! { <td class=format!("{TD} font-mono text-xs")>{e.tenant.clone().unwrap_or_else(|| "—".into())}</td> })}
                                        <td class=format!("{TD} font-mono text-xs break-all text-slate-600")>{e.resource.clone().unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
