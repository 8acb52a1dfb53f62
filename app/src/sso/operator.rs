//! The Operator Console's view of a tenant's single sign-on (FR-AUTH-003): the
//! connection's status and last successful SSO sign-in, the claimed domains, and the
//! operator's vouching for a domain proven out of band (audited).

use crate::error::AppError;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSsoData {
    pub issuer: Option<String>,
    pub status: String,
    pub enforced: bool,
    pub last_login_at: Option<String>,
    pub domains: Vec<super::DomainView>,
}

#[server(prefix = "/_rpc", endpoint = "tenant_sso")]
pub async fn tenant_sso(id: String) -> Result<TenantSsoData, AppError> {
    use crate::auth::ssr::services;
    use crate::ui::ssr::{id_of, operator_for_page, when};
    let actor = operator_for_page("/operator/tenants").await?;
    let tenant = id_of(&id, "tenant", "There is no such tenant.")?;
    let services = services()?;
    let connection = gatehouse_domain::sso::get_connection(services.pool(), &actor, tenant).await?;
    let domains = gatehouse_domain::sso::list_domains(services.pool(), &actor, tenant).await?;
    Ok(TenantSsoData {
        issuer: connection.as_ref().map(|c| c.issuer.clone()),
        status: connection
            .as_ref()
            .map(|c| c.status.as_str().to_owned())
            .unwrap_or_else(|| "not set up".into()),
        enforced: connection.as_ref().is_some_and(|c| c.enforced),
        last_login_at: connection.and_then(|c| c.last_login_at).map(when),
        domains: domains.into_iter().map(super::ssr::domain_view).collect(),
    })
}

/// The operator vouches for a tenant's claimed domain (ownership checked out of band).
#[server(prefix = "/_rpc", endpoint = "vouch_sso_domain")]
pub async fn vouch_sso_domain(id: String, domain: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use crate::ui::ssr::{actor, id_of};
    let actor = actor().await?;
    let tenant = id_of(&id, "tenant", "There is no such tenant.")?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let claim = services
        .apply(
            gatehouse_domain::sso::operator_verify_domain(
                services.pool(),
                &ctx,
                &actor,
                tenant,
                &domain,
            )
            .await,
        )
        .await?;
    Ok(format!("{} is verified for the tenant.", claim.domain))
}

#[component]
pub fn TenantSso(tenant_id: String) -> impl IntoView {
    let vouch = ServerAction::<VouchSsoDomain>::new();
    let id = tenant_id.clone();
    let data = Resource::new_blocking(
        move || (id.clone(), vouch.version().get()),
        |(id, _)| tenant_sso(id),
    );
    view! {
        <Card heading_id="tenant-sso-h" title="Single sign-on" extra="mt-6" testid="tenant-sso">
            {move || vouch.value().get().map(|r| view! { <div class="mt-3">{flash_of(r)}</div> })}
            <Suspense fallback=|| ()>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="mt-3 text-sm text-red-700">{e.message}</p> }.into_any(),
                    Ok(d) => {
                        let tenant = tenant_id.clone();
                        view! {
                            <dl class="mt-3 grid gap-2 text-sm sm:grid-cols-4">
                                <div><dt class="text-slate-500">"Connection"</dt><dd><span class=badge(&d.status) data-testid="tenant-sso-status">{title_case(&d.status)}</span></dd></div>
                                <div class="sm:col-span-2"><dt class="text-slate-500">"Issuer"</dt><dd class="break-all font-mono text-xs">{d.issuer.clone().unwrap_or_else(|| "—".into())}</dd></div>
                                <div><dt class="text-slate-500">"Last SSO sign-in"</dt><dd data-testid="tenant-sso-last">{d.last_login_at.clone().unwrap_or_else(|| "never".into())}</dd></div>
                            </dl>
                            {d.enforced.then(|| view! { <p class="mt-2 text-sm text-slate-600">"SSO is required: passwords are off for everyone but owners."</p> })}
                            <h3 class="mt-4 text-sm font-semibold">"Email domains"</h3>
                            {if d.domains.is_empty() {
                                view! { <p class="mt-1 text-sm text-slate-600">"None claimed."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="mt-1 divide-y divide-slate-100 text-sm">
                                        {d.domains.into_iter().map(|dom| {
                                            let pending = dom.state == "pending";
                                            let tenant = tenant.clone();
                                            let confirm = format!("Mark {} verified for this tenant?", dom.domain);
                                            view! {
                                                <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                                    <span>{dom.domain.clone()}</span>
                                                    <span class="flex items-center gap-2">
                                                        <span class=badge(&dom.state)>{title_case(&dom.state)}</span>
                                                        {pending.then(|| view! {
                                                            <ActionForm action=vouch>
                                                                <input type="hidden" name="id" value=tenant />
                                                                <input type="hidden" name="domain" value=dom.domain.clone() />
                                                                <ConfirmSubmit label="Mark verified" testid="vouch-domain" confirm />
                                                            </ActionForm>
                                                        })}
                                                    </span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                })}
            </Suspense>
        </Card>
    }
}
