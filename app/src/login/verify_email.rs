//! `/verify-email/{token}` (SPEC §9: an email address changes only through verification of
//! the new address): the link mailed to the new address. Opening it changes nothing (mail
//! scanners open links); the person confirms with the button.

use crate::error::AppError;
use crate::layout::{Flash, PageHeader, PageTitle, RefreshSignedIn};
use crate::ui::BUTTON;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[server(prefix = "/_rpc", endpoint = "confirm_new_email")]
pub async fn confirm_new_email(token: String) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request};
    let (ctx, _) = request().await?;
    let email = gatehouse_domain::users::confirm_email_change(&pool()?, &ctx, token.trim()).await?;
    Ok(format!(
        "Your email address is now {email}. Use it to sign in."
    ))
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let params = use_params_map();
    let confirm = ServerAction::<ConfirmNewEmail>::new();
    let token = move || params.read().get("token").unwrap_or_default();
    // A signed-in person's header shows the new address as soon as it is confirmed.
    let refresh = use_context::<RefreshSignedIn>();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(refresh)) = (confirm.value().get(), refresh) {
            refresh.refresh();
        }
    });
    view! {
        <PageTitle text="Confirm your email address" />
        <div class="mx-auto max-w-md">
            <PageHeader title="Confirm your new email address" />
            {move || match confirm.value().get() {
                Some(Ok(message)) => view! {
                    <div data-testid="email-confirmed" class="space-y-4">
                        <Flash message=message />
                        <a href="/account" class="text-indigo-700 underline">"Continue to your account"</a>
                    </div>
                }.into_any(),
                other => view! {
                    <div class="space-y-4">
                        {other.and_then(Result::err).map(|e| view! { <div data-testid="email-refused"><Flash message=e.message error=true /></div> })}
                        <p class="text-slate-700">"Confirm that this address should become the one your Gatehouse account uses."</p>
                        <ActionForm action=confirm>
                            <input type="hidden" name="token" value=token() />
                            <button type="submit" class=BUTTON data-testid="confirm-email">"Confirm this address"</button>
                        </ActionForm>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}
