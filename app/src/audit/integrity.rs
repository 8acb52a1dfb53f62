//! `/audit/integrity`: the Auditor Console's proof that the trail is whole (FR-LOG-001;
//! SPEC §8). A verification runs as a background job on the server (the chain, then every
//! signed checkpoint against it); the page starts one and follows its progress every
//! second until it has a verdict. Beside it: the signed checkpoints, a way to sign the head
//! now, and the public key that lets anyone check a checkpoint or an export offline.

use super::console::{AuditHeader, LocalTime, Moment};
use crate::error::AppError;
use crate::layout::{as_sentence, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the checkpoints' public key is published.
const KEY_ENDPOINT: &str = "/api/v1/audit-logs/checkpoints/key";

/// How many checkpoints the page lists.
#[cfg(feature = "ssr")]
const CHECKPOINTS_SHOWN: i64 = 20;

#[cfg(feature = "ssr")]
const PATH: &str = "/audit/integrity";

/// One verification, running or done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationView {
    pub id: String,
    pub started_by: Option<String>,
    pub started_at: Moment,
    pub finished_at: Option<Moment>,
    pub total: i64,
    pub checked: i64,
    /// `running`, `intact`, `broken` or `failed`.
    pub status: String,
    pub problem: Option<String>,
    pub broken_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointLine {
    pub seq: i64,
    pub signed_at: Moment,
    /// The signing key's name.
    pub key: String,
    /// The head hash, hex.
    pub hash: String,
}

/// The checkpoints' public key, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub name: String,
    pub algorithm: String,
    pub public_key: String,
    pub key_id: String,
    pub verifier_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityData {
    pub last: Option<VerificationView>,
    pub checkpoints: Vec<CheckpointLine>,
    pub key: KeyView,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::audit::console::ssr::{hex, moment};
    use gatehouse_domain::audit::{Checkpoint, Verification};

    pub fn verification_of(v: Verification) -> VerificationView {
        VerificationView {
            id: v.id.to_string(),
            started_by: v.started_by,
            started_at: moment(v.started_at),
            finished_at: v.finished_at.map(moment),
            total: v.total,
            checked: v.checked,
            status: v.status,
            problem: v.problem,
            broken_seq: v.broken_seq,
        }
    }

    pub fn checkpoint_of(c: Checkpoint) -> CheckpointLine {
        CheckpointLine {
            seq: c.seq,
            signed_at: moment(c.signed_at),
            key: c.key_id,
            hash: hex(&c.hash),
        }
    }
}

#[server(prefix = "/_rpc", endpoint = "audit_integrity")]
pub async fn audit_integrity() -> Result<IntegrityData, AppError> {
    use crate::auth::ssr::services;
    use crate::ui::ssr::{actor_of, console_session};
    use gatehouse_domain::audit::{last_verification, recent_checkpoints};
    use gatehouse_domain::permissions::Permission;
    // The page's one resource, so it also guards the page.
    let me = actor_of(&console_session("audit", PATH).await?);
    me.require(Permission::AuditReadAll)?;
    let services = services()?;
    let pool = services.pool();
    let last = last_verification(pool, &me).await?;
    let checkpoints = recent_checkpoints(pool, CHECKPOINTS_SHOWN).await?;
    let key = services.checkpoint_signer().await?.public_key();
    Ok(IntegrityData {
        last: last.map(ssr::verification_of),
        checkpoints: checkpoints.into_iter().map(ssr::checkpoint_of).collect(),
        key: KeyView {
            name: key.name,
            algorithm: key.algorithm.to_owned(),
            public_key: key.public_key,
            key_id: key.key_id,
            verifier_key: key.verifier_key,
        },
    })
}

/// Starts a verification (or answers the one running) and runs it in the background.
#[server(prefix = "/_rpc", endpoint = "start_audit_verification")]
pub async fn start_audit_verification() -> Result<VerificationView, AppError> {
    use crate::auth::ssr::{request, services};
    use crate::ui::ssr::{actor_of, console_session};
    use gatehouse_domain::audit::{
        last_verification, run_verification, start_verification, verification,
    };
    let me = actor_of(&console_session("audit", PATH).await?);
    let (ctx, _) = request().await?;
    let services = services()?;
    let verifier = services.checkpoint_signer().await?.verifier();
    let pool = services.pool().clone();
    // Starting while one runs answers that one, whose job is already under way.
    let running = last_verification(&pool, &me)
        .await?
        .filter(|v| v.status == "running")
        .map(|v| v.id);
    let id = start_verification(&pool, &ctx, &me).await?;
    if running != Some(id) {
        let job = pool.clone();
        tokio::spawn(async move {
            if let Err(e) = run_verification(&job, id, &verifier).await {
                tracing::error!(error = %e, verification = %id, "the audit verification stopped");
            }
        });
    }
    Ok(ssr::verification_of(verification(&pool, &me, id).await?))
}

/// One verification's progress, for the page that follows it.
#[server(prefix = "/_rpc", endpoint = "audit_verification")]
pub async fn audit_verification(id: String) -> Result<VerificationView, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor_of, console_session, id_of, not_found_as};
    const GONE: &str = "There is no such verification.";
    let me = actor_of(&console_session("audit", PATH).await?);
    let id = id_of(&id, "verification", GONE)?;
    let found = gatehouse_domain::audit::verification(&pool()?, &me, id)
        .await
        .map_err(|e| not_found_as(e, GONE))?;
    Ok(ssr::verification_of(found))
}

/// Signs a checkpoint of the chain's head now (the server also signs one every minute
/// while entries arrive).
#[server(prefix = "/_rpc", endpoint = "sign_audit_checkpoint")]
pub async fn sign_audit_checkpoint() -> Result<String, AppError> {
    use crate::auth::ssr::services;
    use crate::ui::ssr::{actor_of, console_session};
    use gatehouse_domain::permissions::Permission;
    let me = actor_of(&console_session("audit", PATH).await?);
    me.require(Permission::AuditReadAll)?;
    let services = services()?;
    let signer = services.checkpoint_signer().await?;
    Ok(
        match gatehouse_domain::audit::sign_head(services.pool(), &signer).await? {
            Some(c) => format!("The chain's head, entry {}, is signed.", c.seq),
            None => "The audit trail is empty: there is nothing to sign yet.".to_owned(),
        },
    )
}

// --- the browser side ---------------------------------------------------------------------

const STEP: &str = "mt-1 text-sm text-slate-600";

fn status_badge(status: &str) -> &'static str {
    match status {
        "intact" => badge("success"),
        "broken" | "failed" => badge("failure"),
        _ => badge("running"),
    }
}

#[component]
pub fn AuditIntegrityPage() -> impl IntoView {
    let sign = ServerAction::<SignAuditCheckpoint>::new();
    let verify = ServerAction::<StartAuditVerification>::new();
    let page = Resource::new_blocking(move || sign.version().get(), |_| audit_integrity());
    view! {
        <PageTitle text="Audit integrity" />
        <script src="/copy.js" defer></script>
        <script src="/localtime.js" defer></script>
        {when_loaded(page, None, move |d: IntegrityData| view! {
            <AuditHeader current="integrity" subtitle="Proof that no entry of the audit trail was changed, removed or added afterwards." />
            {outcome(sign.value())}
            <div class="grid gap-6 lg:grid-cols-2 lg:items-start">
                <VerificationCard last=d.last verify />
                <KeyCard published=d.key />
                <CheckpointsCard checkpoints=d.checkpoints sign />
            </div>
        }.into_any())}
    }
}

/// The newest verification and "Verify now". A running verification is asked for its
/// progress every second until it has a verdict.
#[component]
fn VerificationCard(
    last: Option<VerificationView>,
    verify: ServerAction<StartAuditVerification>,
) -> impl IntoView {
    let current = RwSignal::new(last);
    let lost = RwSignal::new(None::<String>);
    // Only what this card's own submissions answer: the page may be rebuilt (after a
    // checkpoint is signed) while the action still holds an older answer.
    let seen = StoredValue::new(verify.version().get_untracked());
    Effect::new(move |_| {
        let version = verify.version().get();
        if version == seen.get_value() {
            return;
        }
        seen.set_value(version);
        match verify.value().get_untracked() {
            Some(Ok(v)) => {
                lost.set(None);
                current.set(Some(v));
            }
            Some(Err(e)) => lost.set(Some(e.message)),
            None => {}
        }
    });
    Effect::new(move |_| {
        let Some(v) = current.get().filter(|v| v.status == "running") else {
            return;
        };
        #[cfg(not(feature = "hydrate"))]
        let _ = v;
        #[cfg(feature = "hydrate")]
        {
            let id = v.id.clone();
            set_timeout(
                move || {
                    leptos::task::spawn_local(async move {
                        match audit_verification(id).await {
                            Ok(now) => current.set(Some(now)),
                            Err(e) => lost.set(Some(e.message)),
                        }
                    });
                },
                std::time::Duration::from_secs(1),
            );
        }
    });
    let running = move || current.get().is_some_and(|v| v.status == "running");
    view! {
        <Card heading_id="verification-h" title="Verification" testid="verification-card">
            <p class=STEP>"Checks every entry against its hash and the link to the one before it, from the oldest kept entry to the newest, then every signed checkpoint against the chain."</p>
            {move || match current.get() {
                None => view! { <EmptyNote text="No verification has run yet." testid="no-verification" /> }.into_any(),
                Some(v) => verification_body(v).into_any(),
            }}
            {move || lost.get().map(|m| view! {
                <p role="alert" class="mt-3 text-sm text-red-700" data-testid="verification-error">{as_sentence(&m)}</p>
            })}
            <ActionForm action=verify attr:class="mt-4">
                <button type="submit" class=BUTTON data-testid="verify-now" disabled=move || verify.pending().get() || running()>
                    {move || if running() { "Verifying…" } else { "Verify now" }}
                </button>
            </ActionForm>
        </Card>
    }
}

fn verification_body(v: VerificationView) -> impl IntoView {
    let VerificationView {
        id,
        started_by,
        started_at,
        finished_at,
        total,
        checked,
        status,
        problem,
        broken_seq,
    } = v;
    let running = status == "running";
    let percent = if total > 0 {
        checked.clamp(0, total) * 100 / total
    } else {
        0
    };
    let verdict = match status.as_str() {
        "intact" => "Every entry matches its hash and links to the one before it; every signed checkpoint matches the chain.",
        "broken" => "The trail was changed after it was written.",
        "failed" => "The verification could not finish; start it again.",
        _ => "Verifying…",
    };
    let status_class = status_badge(&status);
    let status_text = title_case(&status);
    view! {
        <div class="mt-4 space-y-3 text-sm" data-testid="verification" data-verification=id>
            <p class="flex flex-wrap items-center gap-2">
                <span class=status_class data-testid="verification-status" data-status=status>{status_text}</span>
                <span class="text-slate-700">{verdict}</span>
            </p>
            {running.then(|| view! {
                <div>
                    <progress class="h-2 w-full" max=total.max(1).to_string() value=checked.clamp(0, total.max(1)).to_string()
                        data-testid="verify-progress" aria-label="Verification progress">{format!("{percent} %")}</progress>
                    <p class="mt-1 text-xs text-slate-500">{format!("{checked} of {total} entries checked")}</p>
                </div>
            })}
            {problem.map(|p| view! {
                <p role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-red-800" data-testid="verification-problem">{as_sentence(&p)}</p>
            })}
            <dl class="divide-y divide-slate-100">
                {broken_seq.map(|seq| view! {
                    <div class="grid grid-cols-3 gap-2 py-2">
                        <dt class="text-slate-500">"First broken entry"</dt>
                        <dd class="col-span-2 font-mono" data-testid="verification-broken-seq">{seq}</dd>
                    </div>
                })}
                {(!running).then(|| view! {
                    <div class="grid grid-cols-3 gap-2 py-2">
                        <dt class="text-slate-500">"Entries checked"</dt>
                        <dd class="col-span-2 tabular-nums" data-testid="verification-checked">{checked}</dd>
                    </div>
                })}
                <div class="grid grid-cols-3 gap-2 py-2">
                    <dt class="text-slate-500">"Started by"</dt>
                    <dd class="col-span-2 break-words">{started_by.unwrap_or_else(|| "—".into())}</dd>
                </div>
                <div class="grid grid-cols-3 gap-2 py-2">
                    <dt class="text-slate-500">"Started"</dt>
                    <dd class="col-span-2"><LocalTime at=started_at /></dd>
                </div>
                {finished_at.map(|at| view! {
                    <div class="grid grid-cols-3 gap-2 py-2">
                        <dt class="text-slate-500">"Finished"</dt>
                        <dd class="col-span-2"><LocalTime at=at /></dd>
                    </div>
                })}
            </dl>
        </div>
    }
}

/// The public key of the checkpoints, and how to check an export with it.
#[component]
fn KeyCard(published: KeyView) -> impl IntoView {
    let KeyView {
        name,
        algorithm,
        public_key,
        key_id,
        verifier_key,
    } = published;
    let command = format!("gatehouse audit verify-export FILE --key '{verifier_key}'");
    view! {
        <Card heading_id="key-h" title="Checkpoint key" testid="checkpoint-key">
            <p class=STEP>"Checkpoints are signed with this key. Its public half is published, so anyone can check a checkpoint, or an export, without Gatehouse."</p>
            <dl class="mt-4 space-y-3 text-sm">
                <div>
                    <dt class="text-slate-500">"Verifier key"</dt>
                    <dd class="mt-1 flex items-start gap-2">
                        <code class="min-w-0 flex-1 break-all rounded bg-slate-100 px-2 py-1 text-xs" data-testid="verifier-key">{verifier_key.clone()}</code>
                        <button type="button" class=SECONDARY data-copy=verifier_key data-testid="copy-verifier-key">"Copy"</button>
                    </dd>
                </div>
                <div>
                    <dt class="text-slate-500">{format!("Public key ({algorithm}, base64)")}</dt>
                    <dd class="mt-1 break-all font-mono text-xs" data-testid="public-key">{public_key}</dd>
                </div>
                <div class="grid grid-cols-2 gap-3">
                    <div>
                        <dt class="text-slate-500">"Key name"</dt>
                        <dd class="mt-1 break-all font-mono text-xs">{name}</dd>
                    </div>
                    <div>
                        <dt class="text-slate-500">"Key id"</dt>
                        <dd class="mt-1 font-mono text-xs">{key_id}</dd>
                    </div>
                </div>
                <div>
                    <dt class="text-slate-500">"Published at"</dt>
                    <dd class="mt-1">
                        <a href=KEY_ENDPOINT rel="external" class=format!("{LINK} break-all font-mono text-xs") data-testid="key-endpoint">{KEY_ENDPOINT}</a>
                    </dd>
                </div>
            </dl>
            <h3 class="mt-6 text-sm font-semibold">"Verify an export offline"</h3>
            <p class=STEP>"Every download from Search ends with a checkpoint signed for it. Check the file anywhere with the verifier key:"</p>
            <div class="mt-2 flex items-start gap-2">
                <pre class="min-w-0 flex-1 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100"><code data-testid="verify-export-command">{command.clone()}</code></pre>
                <button type="button" class=SECONDARY data-copy=command>"Copy"</button>
            </div>
            <p class=STEP>"It recomputes every row's hash and checks the closing signature. An export of a time range alone is a whole stretch of the chain, so a removed or added row is found too; a filtered export proves each of its rows."</p>
        </Card>
    }
}

/// The newest signed checkpoints and "Sign a checkpoint now".
#[component]
fn CheckpointsCard(
    checkpoints: Vec<CheckpointLine>,
    sign: ServerAction<SignAuditCheckpoint>,
) -> impl IntoView {
    let rows: Vec<AnyView> = checkpoints
        .into_iter()
        .map(|c| {
            let short = format!("{}…", c.hash.chars().take(16).collect::<String>());
            view! {
                <tr data-testid="checkpoint">
                    <td class=format!("{TD_NOWRAP} text-right tabular-nums")>{c.seq}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")><LocalTime at=c.signed_at /></td>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{c.key}</td>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs") title=c.hash>{short}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let head = vec![
        Column::new("Entry").right(),
        "Signed at".into(),
        "Key".into(),
        "Head hash".into(),
    ];
    view! {
        <Card heading_id="checkpoints-h" title="Signed checkpoints" testid="checkpoints" extra="lg:col-span-2"
            aside=move || view! {
                <ActionForm action=sign>
                    <button type="submit" class=SECONDARY data-testid="sign-checkpoint" disabled=move || sign.pending().get()>"Sign a checkpoint now"</button>
                </ActionForm>
            }>
            <p class=STEP>"A checkpoint records the chain's length and the hash of its newest entry, signed. One is made every minute while entries arrive; verification checks each against the chain, so rewriting the trail, even with its hashes recomputed, is found."</p>
            <DataTable columns=head rows
                empty=|| view! { <EmptyNote text="No checkpoint yet." testid="no-checkpoints" /> } />
        </Card>
    }
}
