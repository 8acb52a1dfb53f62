//! `/operator/tenants` and `/operator/tenants/:id` (SPEC §2, §6; UC-PROV-001,
//! UC-TENANT-SUSPEND, FR-OPS-001, FR-FLAG-001): the Operator Console's tenants — a list with
//! search, filters and cursor pages; provisioning (tenant, invited owner, plan, applications
//! in one transaction); a tenant's page with its owners, user counts, effective flags and
//! where each value comes from, per-tenant overrides, applications, usage
//! (`crate::billing::usage`) and recent audit entries; suspension with a reason and
//! reactivation; plan changes.
//!
//! Every server function authenticates itself and hands the signed-in person to the domain
//! as the actor; the domain refuses everyone but operators.

pub mod alerts;
pub mod maintenance;
pub mod settings;

use crate::audit::{AuditRow, RecentAudit};
use crate::error::AppError;
use crate::layout::PageTitle;
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
mod ssr {
    use super::TenantRow;
    use crate::error::AppError;
    pub use crate::ui::ssr::{actor, operator_for_page, when};
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
        recent: o
            .recent
            .into_iter()
            .map(crate::audit::ssr::audit_row)
            .collect(),
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

/// The list's filters, in the order of its URL.
const FILTERS: &[&str] = &["q", "status", "plan"];

#[component]
pub fn TenantsPage() -> impl IntoView {
    let query = use_query_map();
    let provision = ServerAction::<ProvisionTenant>::new();
    let provisioned = move || last_done(provision.value())().map(|p| p.id);
    let overview = Resource::new_blocking(
        move || (ListQuery::read(&query.read(), FILTERS), provisioned()),
        |(list, _)| {
            tenants_overview(
                list.get("q"),
                list.get("status"),
                list.get("plan"),
                list.cursor,
            )
        },
    );
    view! {
        <PageTitle text="Tenants" />
        {when_loaded(overview, Some(("/operator/tenants", "All tenants")), move |o: TenantsPageData| {
            let list = ListQuery::read(&query.read_untracked(), FILTERS);
            view! {
                <ListHeader console=OPERATOR_CONSOLE title="Tenants" subtitle="Search, provision, suspend and reactivate tenants; change plans." />
                {submission_flash(provision.value(), "The tenant was not provisioned: see the form below.", |p: Provisioned| view! {
                    <DoneFlash testid="provisioned" message=format!("{} is provisioned. The invitation went to {}.", p.name, p.owner_email)>
                        <a href=format!("/operator/tenants/{}", p.id) class=LINK data-testid="open-provisioned">"Open the tenant →"</a>
                    </DoneFlash>
                }.into_any())}
                <div class="space-y-6">
                    <TenantsTable list tenants=o.tenants next_cursor=o.next_cursor plans=o.plans.clone() />
                    <ProvisionForm action=provision plans=o.plans applications=o.applications />
                </div>
            }
            .into_any()
        })}
    }
}

/// The search and filter form (a GET form: the URL holds the filters), the table and its
/// pages.
#[component]
fn TenantsTable(
    list: ListQuery,
    tenants: Vec<TenantRow>,
    next_cursor: Option<String>,
    plans: Vec<String>,
) -> impl IntoView {
    let filtered = list.filtered();
    let (q, status, plan) = (list.get("q"), list.get("status"), list.get("plan"));
    let rows: Vec<AnyView> = tenants
        .into_iter()
        .map(|t| view! {
            <tr data-testid="tenant-row" data-domain=t.domain.clone()>
                <td class=TD>
                    <a href=format!("/operator/tenants/{}", t.id) class=format!("{LINK} font-medium")>{t.name.clone()}</a>
                </td>
                <td class=format!("{TD_NOWRAP} font-mono text-xs")>{t.domain.clone()}</td>
                <td class=TD><span class=badge(&t.plan)>{title_case(&t.plan)}</span></td>
                <td class=TD><span class=badge(&t.status) data-testid="tenant-status">{title_case(&t.status)}</span></td>
                <td class=format!("{TD_NOWRAP} text-slate-600")>{t.created.clone()}</td>
            </tr>
        }.into_any())
        .collect();
    view! {
        <Card heading_id="tenants-h" title="All tenants">
            <FilterForm path="/operator/tenants" testid="tenant-filters" submit="Search" filtered>
                <div class="min-w-[14rem] flex-1">
                    <label for="tenant-q" class="block text-sm font-medium">"Search"</label>
                    <input id="tenant-q" name="q" type="search" value=q placeholder="Name or domain" class=INPUT />
                </div>
                <div>
                    <label for="tenant-status" class="block text-sm font-medium">"Status"</label>
                    <select id="tenant-status" name="status" class=INPUT>
                        {choice("", "Any status", &status)}
                        {choice("active", "Active", &status)}
                        {choice("suspended", "Suspended", &status)}
                    </select>
                </div>
                <div>
                    <label for="tenant-plan" class="block text-sm font-medium">"Plan"</label>
                    <select id="tenant-plan" name="plan" class=INPUT>
                        {choice("", "Any plan", &plan)}
                        {plans.iter().map(|p| choice(p.clone(), title_case(p), &plan)).collect_view()}
                    </select>
                </div>
            </FilterForm>
            <DataTable columns=columns(&["Name", "Domain", "Plan", "Status", "Created"]) rows
                empty=move || if filtered {
                    view! {
                        <EmptyState testid="no-tenants" title="No tenant matches these filters.">
                            <a href="/operator/tenants" class=LINK>"Show all tenants"</a>
                        </EmptyState>
                    }.into_any()
                } else {
                    view! { <EmptyState testid="no-tenants" title="No tenants yet.">"Provision the first one below."</EmptyState> }.into_any()
                } />
            <Pager path="/operator/tenants" list next_cursor />
        </Card>
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
    view! {
        <Card heading_id="provision-h" title="Provision tenant">
            <p class="mt-1 text-sm text-slate-600">"Creates the tenant and invites its owner by email, in one step. The plan's flags apply at once."</p>
            <ActionForm action=action node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="provision-form">
                <Field id="tenant-name" label="Name" field="name" problems=problems_with(value, "name")>
                    <input id="tenant-name" name="name" required maxlength="200" placeholder="Globex Corporation" class=INPUT
                        aria-invalid=invalid_when(value, "name") aria-describedby="name-error" />
                </Field>
                <Field id="tenant-domain" label="Domain" field="domain" problems=problems_with(value, "domain")>
                    <input id="tenant-domain" name="domain" required maxlength="63" placeholder="globex" spellcheck="false" autocapitalize="off"
                        class=format!("{INPUT} font-mono") aria-invalid=invalid_when(value, "domain") aria-describedby="domain-hint domain-error" />
                    <p id="domain-hint" class="mt-1 text-xs text-slate-500">"Lower-case letters, digits and hyphens; used in /t/{domain}/login."</p>
                </Field>
                <Field id="tenant-plan-new" label="Plan" field="plan" problems=problems_with(value, "plan")>
                    <select id="tenant-plan-new" name="plan" class=INPUT aria-invalid=invalid_when(value, "plan") aria-describedby="plan-error">
                        {plans.into_iter().map(|p| view! { <option value=p.clone()>{title_case(&p)}</option> }).collect_view()}
                    </select>
                </Field>
                <Field id="tenant-owner" label="Owner email" field="owner_email" problems=problems_with(value, "owner_email")>
                    <input id="tenant-owner" name="owner_email" type="email" required placeholder="owner@globex.example" class=INPUT
                        aria-invalid=invalid_when(value, "owner_email") aria-describedby="owner_email-error" />
                </Field>
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
                <SubmitRow label="Provision tenant" testid="provision-submit" pending=action.pending() extra="md:col-span-2" />
            </ActionForm>
        </Card>
    }
}

// --- /operator/tenants/:id ------------------------------------------------------------------

#[component]
pub fn TenantPage() -> impl IntoView {
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
    follow_outcome(notice, status.value());
    follow_outcome(notice, plan.value());
    follow_outcome(notice, flag.value());
    view! {
        <PageTitle text="Tenant" />
        {when_loaded(detail, Some(("/operator/tenants", "All tenants")), move |d: TenantPageData| view! {
            <Breadcrumb console=OPERATOR_CONSOLE list=("/operator/tenants", "Tenants") />
            {outcome(notice)}
            <TenantView detail=d status plan flag />
        }.into_any())}
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
    let users_total: i64 = users_by_status
        .iter()
        .filter(|(s, _)| s != "archived")
        .map(|(_, n)| n)
        .sum();
    let TenantRow {
        id,
        name,
        domain,
        plan: tenant_plan,
        status: tenant_status,
        created,
    } = tenant;
    let current_plan = tenant_plan.clone();
    let (status_id, plan_id, usage_id, flags_id, sso_id) =
        (id.clone(), id.clone(), id.clone(), id.clone(), id);
    let status_form = move || {
        let id = status_id.clone();
        view! {
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
        }
    };
    view! {
        <DetailHeader title=name testid="tenant-name" actions=status_form>
            <span class="font-mono text-slate-700">{domain}</span>
            <span class=badge(&tenant_plan) data-testid="tenant-plan">{title_case(&tenant_plan)}</span>
            <span class=badge(&tenant_status) data-testid="tenant-status">{title_case(&tenant_status)}</span>
            <span class="text-slate-600">{format!("created {created}")}</span>
        </DetailHeader>
        {suspended.map(|at| view! {
            <Note testid="suspended-note">
                {format!("Suspended since {at}: sign-ins, sessions, tokens and flag requests of this tenant are refused.")}
            </Note>
        })}
        <div class="grid gap-6 lg:grid-cols-3 lg:items-start">
            <Card heading_id="owners-h" title="Owners">
                {if owners.is_empty() {
                    view! { <p class="mt-3 text-sm text-slate-600">"No owner yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-3 space-y-2 text-sm" data-testid="owners">
                            {owners.into_iter().map(|p| view! {
                                <li>
                                    <p class="font-medium break-words">{p.email.clone()}</p>
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
            </Card>
            <Card heading_id="people-h" title="People">
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
            </Card>
            <Card heading_id="plan-h" title="Plan">
                <p class="mt-1 text-sm text-slate-600">"The plan's flag defaults apply; overrides stay as they are."</p>
                <ActionForm action=plan attr:class="mt-3 flex flex-wrap items-end gap-2" attr:data-testid="plan-form">
                    <input type="hidden" name="id" value=plan_id />
                    <div>
                        <label for="tenant-plan-change" class="block text-sm font-medium">"Plan"</label>
                        <select id="tenant-plan-change" name="plan" class=INPUT>
                            {plans.into_iter().map(|p| choice(p.clone(), title_case(&p), &current_plan)).collect_view()}
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
            </Card>
        </div>
        <crate::billing::usage::TenantUsage tenant_id=usage_id />
        <TenantFlags flags tenant_id=flags_id action=flag />
        <crate::sso::operator::TenantSso tenant_id=sso_id />
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
    let rows: Vec<AnyView> = flags
        .into_iter()
        .map(|f| {
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
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="flags-h" title="Feature flags" extra="mt-6"
            aside=|| view! { <a href="/operator/flags" class=format!("{LINK} text-sm")>"All flag definitions →"</a> }>
            <p class="mt-1 text-sm text-slate-600">"The value each flag has for this tenant, and where it comes from: an override, the plan, a rollout or the default."</p>
            <DataTable columns=columns(&["Flag", "Value", "Source", "Plan / default", "Override"]) rows
                empty=|| view! { <EmptyNote text="No flags are defined yet." /> } />
        </Card>
    }
}
