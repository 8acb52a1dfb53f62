//! The Gatehouse web app: the Universal Login pages and the four consoles, rendered on the
//! server and hydrated in the browser. Server-only code sits behind the `ssr` feature, so
//! nothing of `domain` or the database reaches the wasm build.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![recursion_limit = "256"]

mod apps;
mod audit;
pub mod auth;
pub mod billing;
mod consoles;
mod dev;
pub mod error;
mod flags;
pub mod layout;
mod login;
#[cfg(feature = "ssr")]
pub mod request_stats;
#[cfg(feature = "ssr")]
pub mod services;
mod sso;
mod tenants;
mod ui;
mod users;
mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app. On the server it adopts the request's CSP nonce (see
/// [`PageNonce`]), so the hydration scripts run and nothing injected does.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    adopt_page_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="Gatehouse: login, tokens, tenants, feature flags, usage and audit for B2B SaaS." />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The CSP nonce of one response, made by the server's security-headers middleware and
/// put into the request's extensions. The middleware writes the page policy
/// ([`page_csp`]) on every HTML response itself: setting the header from inside the
/// render (through `ResponseOptions`) was lost now and then on pages rendered with
/// `SsrMode::Async`, which left pages under the deny-all policy.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct PageNonce(pub String);

/// The Content-Security-Policy of a page with this nonce.
#[cfg(feature = "ssr")]
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn adopt_page_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let Some(PageNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <layout::Shell>
                <Routes fallback=layout::not_found::NotFound>
                    <Route path=path!("/") view=consoles::home::HomePage />
                    <Route path=path!("/login") view=login::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/t/:domain/login") view=login::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/mfa") view=login::mfa::MfaPage ssr=SsrMode::Async />
                    <Route path=path!("/login/mfa/setup") view=login::mfa::MfaSetupPage ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=login::password_reset::ForgotPasswordPage />
                    <Route path=path!("/reset-password/:token") view=login::password_reset::ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/invite/:token") view=login::invite::InvitePage ssr=SsrMode::Async />
                    <Route path=path!("/logout") view=login::LogoutPage />
                    <Route path=path!("/verify-email/:token") view=login::verify_email::VerifyEmailPage />
                    <Route path=path!("/account") view=users::account::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/account/mfa/totp") view=users::account::AddTotpPage ssr=SsrMode::Async />
                    <Route path=path!("/dev/mailbox") view=dev::mailbox::MailboxPage ssr=SsrMode::Async />
                    <Route path=path!("/operator") view=consoles::operator::OperatorPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/applications") view=apps::ApplicationsPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/applications/:id") view=apps::ApplicationPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/tenants") view=tenants::TenantsPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/tenants/:id") view=tenants::TenantPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/flags") view=flags::FlagsPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/flags/:key") view=flags::FlagPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/webhooks") view=webhooks::OperatorEndpointsPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/webhooks/:id") view=webhooks::OperatorEndpointPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/maintenance") view=tenants::maintenance::MaintenancePage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=consoles::admin::AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=users::admin::PeoplePage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view=users::admin::PersonPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view=tenants::settings::SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/subscription") view=billing::subscription::SubscriptionPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/sso") view=sso::SsoPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=audit::tenant_log::AuditLogPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/webhooks") view=webhooks::AdminEndpointsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/webhooks/:id") view=webhooks::AdminEndpointPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=audit::console::AuditConsolePage ssr=SsrMode::Async />
                    <Route path=path!("/audit/entries/:id") view=audit::console::AuditEntryPage ssr=SsrMode::Async />
                    <Route path=path!("/audit/integrity") view=audit::integrity::AuditIntegrityPage ssr=SsrMode::Async />
                </Routes>
            </layout::Shell>
        </Router>
    }
}
