use crate::layout::PlannedConsole;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <PlannedConsole
            title="Your account"
            audience="For every signed-in user: your own profile and security."
            items=&[
                ("Profile", "Your name and email address."),
                ("Password", "Change your password under your organisation's policy."),
                ("Two-factor authentication", "Authenticator apps, passkeys and recovery codes."),
                ("Sessions", "Where you are signed in, with the option to sign out anywhere."),
            ]
        />
    }
}
