//! Tenant Administration (SPEC §2, §3; FR-TENANT-001/002/004/006, UC-TENANT-INVITE,
//! UC-TENANT-USER-UPDATE, UC-TENANT-USER-STATUS-UPDATE, UC-TENANT-USER-DELETE,
//! UC-TENANT-SESSION-REVOKE): `/admin/users` — the tenant's people with search, role and
//! status filters and cursor pages, and the invitation form — and `/admin/users/:id` — a
//! person's details, sessions, second factors and audit entries, and the actions on them
//! (change role, disable / enable, delete, end sessions, reset MFA), each confirmed.
//!
//! The tenant is always the signed-in person's own; the domain enforces the SPEC §2 rules
//! (an admin never acts on owners nor grants owner; the last active owner stays).

use crate::audit::{AuditRow, RecentAudit};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub status: String,
    pub mfa: bool,
    pub last_login: Option<String>,
    pub created: String,
    pub erased: Option<String>,
}

/// A person's waiting request to be erased (CON-COMP-001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRow {
    pub request: String,
    pub user_id: String,
    pub email: String,
    pub requested: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub expires: String,
    pub expired: bool,
    /// Admins cannot act on an owner's invitation.
    pub may_act: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePageData {
    pub people: Vec<PersonRow>,
    pub pending: Vec<InvitationRow>,
    pub next_cursor: Option<String>,
    /// The roles the signed-in person may give (admins cannot grant owner).
    pub grantable: Vec<String>,
    /// People who asked to be erased and wait for a decision.
    pub erasures: Vec<ErasureRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    /// The country of the address, or "—".
    pub location: String,
    pub last_seen: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonPageData {
    pub person: PersonRow,
    pub sessions: Vec<SessionRow>,
    pub authenticator_apps: Vec<String>,
    pub passkeys: Vec<String>,
    pub recovery_codes_left: i64,
    pub recent: Vec<AuditRow>,
    pub grantable: Vec<String>,
    /// Whether the signed-in person may act on this one (admins never act on owners, no
    /// one acts on themselves here — their own account page is for that).
    pub may_act: bool,
    pub is_me: bool,
    /// Their waiting request to be erased, if any.
    pub erasure: Option<ErasureRow>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ErasureRow, PersonRow};
    use crate::error::AppError;
    pub use crate::ui::ssr::{actor, actor_of, console_session, when};
    use gatehouse_domain::permissions::Actor;
    use gatehouse_domain::types::Role;
    use gatehouse_domain::users::UserView;
    use gatehouse_domain::DomainError;

    pub fn person_row(u: UserView) -> PersonRow {
        PersonRow {
            id: u.id.to_string(),
            email: u.email,
            name: u.name,
            role: u.role,
            status: u.status,
            mfa: u.mfa_enabled,
            last_login: u.last_login.map(when),
            created: when(u.created_at),
            erased: u.erased_at.map(when),
        }
    }

    /// The tenant's waiting erasure requests.
    pub async fn erasure_rows(
        pool: &sqlx::PgPool,
        actor: &Actor,
        tenant: uuid::Uuid,
    ) -> Result<Vec<ErasureRow>, AppError> {
        Ok(
            gatehouse_domain::users::erasure_requests(pool, actor, tenant)
                .await?
                .into_iter()
                .filter(|r| r.status == "pending")
                .map(|r| ErasureRow {
                    request: r.id.to_string(),
                    user_id: r.user_id.to_string(),
                    email: r.email,
                    requested: when(r.requested_at),
                })
                .collect(),
        )
    }

    /// The roles `actor` may give: owners any tenant role, admins admin and user.
    pub fn grantable(actor: &Actor) -> Vec<String> {
        let roles: &[Role] = if actor.role == Role::Owner {
            &[Role::Owner, Role::Admin, Role::User]
        } else {
            &[Role::Admin, Role::User]
        };
        roles.iter().map(|r| r.as_str().to_owned()).collect()
    }

    pub use crate::ui::ssr::tenant_of;

    const NOT_FOUND: &str = "There is no such person in your organisation.";

    /// A person's id from a URL or a form; anything else is "not found".
    pub fn person_id(raw: &str) -> Result<uuid::Uuid, AppError> {
        crate::ui::ssr::id_of(raw, "user", NOT_FOUND)
    }

    pub fn page_error(err: DomainError) -> AppError {
        crate::ui::ssr::not_found_as(err, NOT_FOUND)
    }
}

#[server(prefix = "/_rpc", endpoint = "admin_people")]
pub async fn admin_people(
    #[server(default)] q: String,
    #[server(default)] role: String,
    #[server(default)] status: String,
    #[server(default)] cursor: String,
) -> Result<PeoplePageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::types::{Role, UserStatus};
    use gatehouse_domain::users::{list_users, UserQuery};
    // The page's one resource, so it also guards the page.
    let actor = ssr::actor_of(&ssr::console_session("admin", "/admin/users").await?);
    let tenant = ssr::tenant_of(&actor)?;
    let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = UserQuery {
        search: given(&q),
        role: given(&role).map(|r| Role::parse(&r)).transpose()?,
        status: given(&status).map(|s| UserStatus::parse(&s)).transpose()?,
        include_archived: false,
        cursor: given(&cursor),
        limit: 25,
    };
    let pool = pool()?;
    let page = list_users(&pool, &actor, tenant, query).await?;
    let pending = gatehouse_domain::users::pending_invitations(&pool, &actor, tenant).await?;
    // CON-SEC-002: who listed whom.
    let (ctx, _) = crate::auth::ssr::request().await?;
    gatehouse_domain::audit::record_read(
        &pool,
        &ctx,
        &actor,
        "user.list",
        None,
        gatehouse_domain::audit::read_ids(page.data.iter().map(|u| u.id)),
    )
    .await?;
    Ok(PeoplePageData {
        people: page.data.into_iter().map(ssr::person_row).collect(),
        pending: pending
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id.to_string(),
                may_act: actor.role == Role::Owner || i.role != "owner",
                email: i.email,
                role: i.role,
                invited_by: i.invited_by.unwrap_or_else(|| "the platform".into()),
                expires: ssr::when(i.expires_at),
                expired: i.expired,
            })
            .collect(),
        next_cursor: page.next_cursor,
        grantable: ssr::grantable(&actor),
        erasures: ssr::erasure_rows(&pool, &actor, tenant).await?,
    })
}

/// UC-TENANT-INVITE / FR-TENANT-001: the invited person gets the mail; they are `invited`
/// until they accept.
#[server(prefix = "/_rpc", endpoint = "invite_person")]
pub async fn invite_person(email: String, role: String) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services, web_config};
    use gatehouse_domain::types::{Email, Role};
    use gatehouse_domain::users::{invite_user, NewInvitation, DEFAULT_LIFETIME};
    let actor = ssr::actor().await?;
    let tenant = ssr::tenant_of(&actor)?;
    let (ctx, _) = request().await?;
    let mut problems = Vec::new();
    let email = Email::parse(email.trim())
        .map_err(|_| {
            problems.push(Problem {
                field: "email".into(),
                message: format!("'{}' is not a valid email address", email.trim()),
            })
        })
        .ok();
    let role = Role::parse(&role)
        .map_err(|_| {
            problems.push(Problem {
                field: "role".into(),
                message: "choose a role".into(),
            })
        })
        .ok();
    let (Some(email), Some(role)) = (email, role) else {
        return Ok(Submitted::Refused(problems));
    };
    let base_url = web_config()?.public_url;
    let services = services()?;
    match services
        .apply(
            invite_user(
                services.pool(),
                &ctx,
                Some(&actor),
                NewInvitation {
                    tenant_id: tenant,
                    email,
                    role,
                    lifetime: DEFAULT_LIFETIME,
                },
                &base_url,
            )
            .await,
        )
        .await
    {
        Ok(user) => Ok(Submitted::Done(user.email.as_str().to_owned())),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

/// Sends a pending invitation again (`action=resend`) or revokes it (`action=revoke`).
#[server(prefix = "/_rpc", endpoint = "act_on_invitation")]
pub async fn act_on_invitation(id: String, action: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services, web_config};
    use gatehouse_domain::users::{resend_invitation, revoke_invitation};
    use gatehouse_domain::DomainError;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::from(DomainError::NotFound("invitation")))?;
    let base_url = web_config()?.public_url;
    let services = services()?;
    let message = match action.as_str() {
        "resend" => {
            let i = services
                .apply(resend_invitation(services.pool(), &ctx, &actor, id, &base_url).await)
                .await?;
            format!(
                "The invitation to {} is sent again; the earlier link no longer works.",
                i.email
            )
        }
        "revoke" => {
            let i = services
                .apply(revoke_invitation(services.pool(), &ctx, &actor, id).await)
                .await?;
            format!("The invitation to {} is revoked.", i.email)
        }
        _ => return Err(AppError::invalid("unknown action")),
    };
    Ok(message)
}

#[server(prefix = "/_rpc", endpoint = "admin_person")]
pub async fn admin_person(id: String) -> Result<PersonPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::types::Role;
    // The page's one resource, so it also guards the page.
    let session = ssr::console_session("admin", &format!("/admin/users/{id}")).await?;
    let actor = ssr::actor_of(&session);
    let id = ssr::person_id(&id)?;
    let pool = pool()?;
    let person = gatehouse_domain::users::get_user(&pool, &actor, id)
        .await
        .map_err(ssr::page_error)?;
    let sessions = gatehouse_domain::users::list_sessions(&pool, id).await?;
    let factors = gatehouse_domain::mfa::mfa_factors(&pool, id).await?;
    let recent = gatehouse_domain::audit::entries_about_user(&pool, &actor, id).await?;
    // CON-SEC-002: opening a person's page is a read of their personal data.
    let (ctx, _) = crate::auth::ssr::request().await?;
    gatehouse_domain::audit::record_read(
        &pool,
        &ctx,
        &actor,
        "user.read",
        Some(format!("user:{id}")),
        leptos::serde_json::json!({}),
    )
    .await?;
    let is_me = person.id == actor.user_id;
    let may_act = !is_me && (actor.role == Role::Owner || person.role != "owner");
    let erasure = match person.tenant_id {
        Some(tenant) => ssr::erasure_rows(&pool, &actor, tenant)
            .await?
            .into_iter()
            .find(|r| r.user_id == id.to_string()),
        None => None,
    };
    Ok(PersonPageData {
        erasure,
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                device: s.user_agent.unwrap_or_else(|| "Unknown device".into()),
                location: crate::ui::ssr::place(s.ip.as_deref()),
                ip: s.ip.unwrap_or_else(|| "—".into()),
                last_seen: ssr::when(s.last_seen_at),
                created: ssr::when(s.created_at),
            })
            .collect(),
        authenticator_apps: factors.totp.into_iter().map(|t| t.label).collect(),
        passkeys: factors.passkeys.into_iter().map(|p| p.name).collect(),
        recovery_codes_left: factors.recovery_codes_left,
        recent: recent
            .into_iter()
            .map(crate::audit::ssr::audit_row)
            .collect(),
        grantable: ssr::grantable(&actor),
        person: ssr::person_row(person),
        may_act,
        is_me,
    })
}

/// One action on a person: `role` (with `role=`), `disable`, `enable`, `delete`,
/// `end-sessions`, `reset-mfa`, `erase`, or `decline-erasure` (with `request_id=` and
/// `reason=`).
#[server(prefix = "/_rpc", endpoint = "act_on_person")]
pub async fn act_on_person(
    id: String,
    action: String,
    #[server(default)] role: String,
    #[server(default)] request_id: String,
    #[server(default)] reason: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::types::Role;
    use gatehouse_domain::users as ua;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::person_id(&id)?;
    let services = services()?;
    let base_url = services.web().public_url.clone();
    // Role and status are fields of one operation, as in the API's PATCH.
    let update = async |change: ua::UserChange| {
        let done = ua::update_user(services.pool(), &ctx, &actor, id, change, &base_url).await;
        services.apply(done).await
    };
    let enabled = |enabled: bool| ua::UserChange {
        enabled: Some(enabled),
        ..Default::default()
    };
    let message = match action.as_str() {
        "role" => {
            let role = Role::parse(&role)?;
            let u = update(ua::UserChange {
                role: Some(role),
                ..Default::default()
            })
            .await?;
            format!(
                "{} is {} {} now; their sessions have ended.",
                u.email,
                if role == Role::Admin { "an" } else { "a" },
                role.as_str()
            )
        }
        "disable" => {
            let u = update(enabled(false)).await?;
            format!(
                "{} is disabled: their sessions have ended and they cannot sign in.",
                u.email
            )
        }
        "enable" => {
            let u = update(enabled(true)).await?;
            format!("{} is enabled: they can sign in again.", u.email)
        }
        "delete" => {
            let u = ua::get_user(services.pool(), &actor, id).await?;
            services
                .apply(ua::archive_user(services.pool(), &ctx, &actor, id).await)
                .await?;
            format!(
                "{} is deleted: they can never sign in again and are hidden from the list.",
                u.email
            )
        }
        "end-sessions" => {
            let n = services
                .apply(ua::revoke_sessions(services.pool(), &ctx, &actor, id).await)
                .await?;
            format!("{n} {} ended.", if n == 1 { "session" } else { "sessions" })
        }
        "reset-mfa" => {
            services
                .apply(ua::reset_mfa(services.pool(), &ctx, &actor, id).await)
                .await?;
            "Their second factors are removed; they set up a new one at their next sign-in if required.".to_owned()
        }
        "erase" => {
            services
                .apply(ua::erase_user(services.pool(), &ctx, &actor, id).await)
                .await?;
            "The person is erased: their personal data is gone from every record, and the audit trail shows it as erased.".to_owned()
        }
        "decline-erasure" => {
            let request_id = ssr::person_id(&request_id)?;
            ua::decline_erasure(services.pool(), &ctx, &actor, request_id, &reason).await?;
            "Their erasure request is declined; they see your reason on their account page."
                .to_owned()
        }
        _ => return Err(AppError::invalid("unknown action")),
    };
    Ok(message)
}

// --- the browser side ---------------------------------------------------------------------

/// The list's filters, in the order of its URL.
const FILTERS: &[&str] = &["q", "role", "status"];

#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let invite = ServerAction::<InvitePerson>::new();
    let invitation = ServerAction::<ActOnInvitation>::new();
    let invited = last_done(invite.value());
    let people = Resource::new_blocking(
        move || {
            (
                ListQuery::read(&query.read(), FILTERS),
                invited(),
                invitation.version().get(),
            )
        },
        |(list, _, _)| {
            admin_people(
                list.get("q"),
                list.get("role"),
                list.get("status"),
                list.cursor,
            )
        },
    );
    view! {
        <PageTitle text="Users" />
        {when_loaded(people, None, move |p: PeoplePageData| {
            let list = ListQuery::read(&query.read_untracked(), FILTERS);
            view! {
                <ListHeader console=TENANT_ADMINISTRATION title="Users" subtitle="The people of your organisation: invite them, change their role, disable or delete them." />
                {submission_flash(invite.value(), "Nobody was invited: see the form.", |e: String| view! {
                    <DoneFlash testid="invited" message=format!("{e} is invited: the invitation is on its way.") />
                }.into_any())}
                {outcome(invitation.value())}
                <div class="space-y-6">
                    {(!p.erasures.is_empty()).then(|| view! { <ErasureRequests requests=p.erasures.clone() /> })}
                    <PeopleTable list people=p.people next_cursor=p.next_cursor />
                    <InviteForm action=invite grantable=p.grantable />
                    <PendingInvitations pending=p.pending action=invitation />
                </div>
            }
            .into_any()
        })}
    }
}

#[component]
fn PeopleTable(
    list: ListQuery,
    people: Vec<PersonRow>,
    next_cursor: Option<String>,
) -> impl IntoView {
    let filtered = list.filtered();
    let (q, role, status) = (list.get("q"), list.get("role"), list.get("status"));
    let nothing = if filtered {
        "Nobody matches these filters."
    } else {
        "Nobody here yet."
    };
    let rows: Vec<AnyView> = people
        .into_iter()
        .map(|p| view! {
            <tr data-testid="person-row" data-email=p.email.clone()>
                <td class=TD_NOWRAP>
                    <a href=format!("/admin/users/{}", p.id) class=format!("{LINK} font-medium")>{p.email.clone()}</a>
                </td>
                <td class=TD>{p.name.clone().unwrap_or_else(|| "—".into())}</td>
                <td class=TD><span class=badge(&p.role) data-testid="person-role">{title_case(&p.role)}</span></td>
                <td class=TD><span class=badge(&p.status) data-testid="person-status">{title_case(&p.status)}</span></td>
                <td class=TD>{if p.mfa { "On" } else { "Off" }}</td>
                <td class=format!("{TD_NOWRAP} text-slate-600")>{p.last_login.clone().unwrap_or_else(|| "Never".into())}</td>
            </tr>
        }.into_any())
        .collect();
    view! {
        <Card heading_id="people-h" title="People">
            <FilterForm path="/admin/users" testid="people-filters" submit="Search" filtered>
                <div class="min-w-[14rem] flex-1">
                    <label for="people-q" class="block text-sm font-medium">"Search"</label>
                    <input id="people-q" name="q" type="search" value=q placeholder="Email or name" class=INPUT />
                </div>
                <div>
                    <label for="people-role" class="block text-sm font-medium">"Role"</label>
                    <select id="people-role" name="role" class=INPUT>
                        {[("", "Any role"), ("owner", "Owner"), ("admin", "Admin"), ("user", "User")]
                            .into_iter().map(|(v, label)| choice(v, label, &role)).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="people-status" class="block text-sm font-medium">"Status"</label>
                    <select id="people-status" name="status" class=INPUT>
                        {[("", "Any but deleted"), ("active", "Active"), ("invited", "Invited"), ("disabled", "Disabled"), ("archived", "Deleted")]
                            .into_iter().map(|(v, label)| choice(v, label, &status)).collect_view()}
                    </select>
                </div>
            </FilterForm>
            <DataTable columns=columns(&["Email", "Name", "Role", "Status", "MFA", "Last sign-in"]) rows
                empty=move || view! {
                    <EmptyState testid="no-people" title=nothing>"Invite people with the form below."</EmptyState>
                } />
            <Pager path="/admin/users" list next_cursor />
        </Card>
    }
}

#[component]
fn InviteForm(action: ServerAction<InvitePerson>, grantable: Vec<String>) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    view! {
        <Card heading_id="invite-h" title="Invite someone">
            <p class="mt-1 text-sm text-slate-600">"They get an email with a link to set their name and password; the link works for 7 days."</p>
            <ActionForm action=action node_ref=form attr:class="mt-4 flex flex-wrap items-start gap-4" attr:data-testid="invite-form">
                <Field id="invite-email" label="Email" field="email" problems=problems_with(value, "email") extra="min-w-[16rem] flex-1">
                    <input id="invite-email" name="email" type="email" required placeholder="new.colleague@example.com" class=INPUT aria-describedby="email-error" />
                </Field>
                <Field id="invite-role" label="Role" field="role" problems=problems_with(value, "role")>
                    <select id="invite-role" name="role" class=INPUT aria-describedby="role-error">
                        {grantable.into_iter().map(|r| choice(r.clone(), title_case(&r), "user")).collect_view()}
                    </select>
                </Field>
                <SubmitRow label="Send invitation" testid="invite-submit" pending=action.pending() extra="pt-6" />
            </ActionForm>
        </Card>
    }
}

/// People who asked to be erased: each links to their page, where it is decided.
#[component]
fn ErasureRequests(requests: Vec<ErasureRow>) -> impl IntoView {
    let rows: Vec<AnyView> = requests
        .into_iter()
        .map(|r| {
            view! {
                <tr data-testid="erasure-row">
                    <td class=TD_NOWRAP><a href=format!("/admin/users/{}", r.user_id) class=LINK>{r.email.clone()}</a></td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{r.requested.clone()}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="erasures-h" title="Erasure requests" testid="erasure-requests">
            <p class="mt-1 text-sm text-slate-600">"These people asked to be erased. Open one to approve (erase) or decline with a reason."</p>
            <DataTable columns=columns(&["Person", "Asked on"]) rows
                empty=|| view! { <p class="mt-3 text-sm text-slate-600">"No request is waiting."</p> } />
        </Card>
    }
}

#[component]
fn PendingInvitations(
    pending: Vec<InvitationRow>,
    action: ServerAction<ActOnInvitation>,
) -> impl IntoView {
    let mut head = columns(&["Email", "Role", "Invited by", "Expires"]);
    head.push(Column::actions());
    let rows: Vec<AnyView> = pending
        .into_iter()
        .map(|i| {
            let resend_id = i.id.clone();
            let revoke_id = i.id.clone();
            view! {
                <tr data-testid="pending-row" data-email=i.email.clone()>
                    <td class=TD_NOWRAP>{i.email.clone()}</td>
                    <td class=TD><span class=badge(&i.role)>{title_case(&i.role)}</span></td>
                    <td class=TD_NOWRAP>{i.invited_by.clone()}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>
                        {i.expires.clone()}
                        {i.expired.then(|| view! { <span class=format!("{} ml-2", badge("expired"))>"Expired"</span> })}
                    </td>
                    <td class=format!("{TD} text-right")>
                        {i.may_act.then(move || view! {
                            <div class="flex flex-wrap justify-end gap-2">
                                <ActionForm action=action>
                                    <input type="hidden" name="id" value=resend_id />
                                    <input type="hidden" name="action" value="resend" />
                                    <button type="submit" class=SECONDARY data-testid="resend-invitation">"Resend"</button>
                                </ActionForm>
                                <ActionForm action=action>
                                    <input type="hidden" name="id" value=revoke_id />
                                    <input type="hidden" name="action" value="revoke" />
                                    <ConfirmSubmit label="Revoke" testid="revoke-invitation" danger=true confirm="Revoke it? The link stops working.".to_owned() />
                                </ActionForm>
                            </div>
                        })}
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="pending-h" title="Pending invitations" testid="pending-invitations">
            <DataTable columns=head rows
                empty=|| view! { <p class="mt-3 text-sm text-slate-600" data-testid="no-pending">"No invitation is waiting to be accepted."</p> } />
        </Card>
    }
}

// --- /admin/users/:id -------------------------------------------------------------------------

#[component]
pub fn PersonPage() -> impl IntoView {
    let params = use_params_map();
    let act = ServerAction::<ActOnPerson>::new();
    let detail = Resource::new_blocking(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                act.version().get(),
            )
        },
        |(id, _)| admin_person(id),
    );
    view! {
        <PageTitle text="User" />
        {when_loaded(detail, Some(("/admin/users", "All users")), move |d: PersonPageData| view! {
            <Breadcrumb console=TENANT_ADMINISTRATION list=("/admin/users", "Users") />
            {outcome(act.value())}
            <PersonView data=d act />
        }.into_any())}
    }
}

#[component]
fn PersonView(data: PersonPageData, act: ServerAction<ActOnPerson>) -> impl IntoView {
    let PersonPageData {
        person,
        sessions,
        authenticator_apps,
        passkeys,
        recovery_codes_left,
        recent,
        grantable,
        may_act,
        is_me,
        erasure,
    } = data;
    let archived = person.status == "archived";
    let erased = person.erased.clone();
    let data_link = format!("/users/{}/data.json", person.id);
    let disabled = person.status == "disabled";
    let since = format!(
        " · joined {} · last sign-in {}",
        person.created,
        person.last_login.clone().unwrap_or_else(|| "never".into())
    );
    let PersonRow {
        id,
        email,
        name,
        role,
        status,
        ..
    } = person;
    let role_id = id.clone();
    let erase_id = id.clone();
    let current_role = role.clone();
    // One confirmed action form.
    let action_form = move |action: &'static str,
                            label: &'static str,
                            confirm: &'static str,
                            danger: bool| {
        let id = id.clone();
        view! {
            <ActionForm action=act>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=action />
                <ConfirmSubmit label=label testid=action confirm=confirm.to_owned() danger=danger />
            </ActionForm>
        }
    };
    view! {
        <DetailHeader title=email testid="person-email" title_class="break-words">
            <span class=badge(&role) data-testid="person-role">{title_case(&role)}</span>
            <span class=badge(&status) data-testid="person-status">{title_case(&status)}</span>
            {name}
            {since}
        </DetailHeader>
        {is_me.then(|| view! {
            <p role="note" class="mb-6 rounded-md border border-slate-200 bg-white px-4 py-3 text-sm text-slate-700">
                "This is you: change your own account on " <a href="/account" class=LINK>"your account page"</a> "."
            </p>
        })}
        {(!may_act && !is_me).then(|| view! { <Note testid="owner-note">"Only an owner can change an owner."</Note> })}
        <div class="grid gap-6 lg:grid-cols-3 lg:items-start">
            {(may_act && !archived).then(|| view! {
                <Card heading_id="actions-h" title="Actions" testid="person-actions">
                    <ActionForm action=act attr:class="mt-4 flex flex-wrap items-end gap-2" attr:data-testid="role-form">
                        <input type="hidden" name="id" value=role_id />
                        <input type="hidden" name="action" value="role" />
                        <div>
                            <label for="person-role-select" class="block text-sm font-medium">"Role"</label>
                            <select id="person-role-select" name="role" class=INPUT>
                                {grantable.into_iter().map(|r| choice(r.clone(), title_case(&r), &current_role)).collect_view()}
                            </select>
                        </div>
                        <ConfirmSubmit label="Change role" testid="change-role" confirm="Change the role? Their sessions end at once.".to_owned() />
                    </ActionForm>
                    <div class="mt-6 flex flex-col items-start gap-3">
                        {if disabled {
                            action_form("enable", "Enable", "Enable them? They can sign in again.", false).into_any()
                        } else {
                            action_form("disable", "Disable", "Disable them? Their sessions end and they cannot sign in.", true).into_any()
                        }}
                        {action_form("end-sessions", "End sessions", "End all their sessions? They must sign in again.", false)}
                        {action_form("reset-mfa", "Reset MFA", "Remove their second factors?", false)}
                        {action_form("delete", "Delete", "Delete them? They can never sign in again. This cannot be undone.", true)}
                    </div>
                </Card>
            })}
            <Card heading_id="data-h" title="Personal data" testid="person-data">
                {match erased.clone() {
                    Some(at) => view! {
                        <p class="mt-3 text-sm text-slate-700" data-testid="person-erased">{format!("Erased on {at}: their personal data is gone, and the audit trail shows it as erased.")}</p>
                    }.into_any(),
                    None => view! {
                        <p class="mt-3 text-sm text-slate-600">"Everything held about them, as a JSON file. Each download is audited."</p>
                        <a href=data_link.clone() download rel="external" class=format!("{SECONDARY} mt-3 inline-block") data-testid="person-data-download">"Download their data"</a>
                    }.into_any(),
                }}
                {erasure.clone().filter(|_| erased.is_none()).map(|e| view! {
                    <div class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="erasure-request">
                        <p>{format!("They asked to be erased on {}.", e.requested)}</p>
                        {may_act.then(|| view! {
                            <ActionForm action=act attr:class="mt-3 space-y-2">
                                <input type="hidden" name="id" value=e.user_id.clone() />
                                <input type="hidden" name="action" value="decline-erasure" />
                                <input type="hidden" name="request_id" value=e.request.clone() />
                                <label for="decline-reason" class="block text-sm font-medium">"Reason for declining"</label>
                                <input id="decline-reason" name="reason" maxlength="500" required class=INPUT />
                                <ConfirmSubmit label="Decline" testid="decline-erasure" confirm="Decline their request? They will see your reason.".to_owned() />
                            </ActionForm>
                        })}
                    </div>
                })}
                {(may_act && erased.is_none()).then(|| view! {
                    <ActionForm action=act attr:class="mt-4">
                        <input type="hidden" name="id" value=erase_id.clone() />
                        <input type="hidden" name="action" value="erase" />
                        <ConfirmSubmit label="Erase" testid="erase" danger=true confirm="Erase this person? Their sessions end, their personal data is removed from every record and the audit trail's entries about them read as erased. This cannot be undone, by anyone.".to_owned() />
                    </ActionForm>
                })}
            </Card>
            <Card heading_id="sessions-h" title="Sessions">
                {if sessions.is_empty() {
                    view! { <p class="mt-3 text-sm text-slate-600" data-testid="no-sessions">"No live sessions."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-3 space-y-3 text-sm" data-testid="sessions">
                            {sessions.into_iter().map(|s| view! {
                                <li data-testid="session-row">
                                    <p class="font-medium break-words">{s.device}</p>
                                    <p class="text-slate-600">{format!("{}{} · last seen {} · since {}", s.ip, if s.location == "—" { String::new() } else { format!(" ({})", s.location) }, s.last_seen, s.created)}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <Card heading_id="mfa-h" title="Second factors">
                <dl class="mt-3 space-y-2 text-sm" data-testid="factors">
                    <div>
                        <dt class="text-slate-500">"Authenticator apps"</dt>
                        <dd>{if authenticator_apps.is_empty() { "None".to_owned() } else { authenticator_apps.join(", ") }}</dd>
                    </div>
                    <div>
                        <dt class="text-slate-500">"Passkeys"</dt>
                        <dd>{if passkeys.is_empty() { "None".to_owned() } else { passkeys.join(", ") }}</dd>
                    </div>
                    <div>
                        <dt class="text-slate-500">"Recovery codes left"</dt>
                        <dd class="tabular-nums">{recovery_codes_left}</dd>
                    </div>
                </dl>
            </Card>
        </div>
        <RecentAudit entries=recent />
    }
}
