//! Published events (SPEC §9 webhooks, the events stream): some audit entries announce a
//! change to the vendor's own systems. An event is written by the append of the entry that
//! records the change, so it commits or rolls back with it, whichever layer made the
//! change; the webhook worker and the events stream read it from `webhook_events`.
//!
//! The catalog lives in the kernel for that reason: every layer's changes publish, and the
//! webhooks feature (which delivers them) sits above all of them.

use super::{AuditEntry, Outcome};
use crate::DomainError;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sqlx::PgConnection;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The channel a committed event is announced on; the payload is `seq`.
pub const EVENTS_CHANNEL: &str = "webhook_events";

macro_rules! catalog {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// The event catalog. Endpoints subscribe to a subset.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            /// Every type, in catalog order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }

            /// What the event announces, for the reference and the console.
            pub fn description(self) -> &'static str {
                match self { $(EventType::$variant => $doc,)* }
            }

            /// A catalog name, case-insensitively.
            pub fn parse(raw: &str) -> Option<EventType> {
                let raw = raw.trim();
                Self::ALL.iter().copied().find(|t| t.as_str().eq_ignore_ascii_case(raw))
            }
        }
    };
}

catalog! {
    TenantCreated = "tenant.created": "A tenant was provisioned.",
    TenantSuspended = "tenant.suspended": "A tenant was suspended: its people cannot sign in and its tokens stop working.",
    TenantReactivated = "tenant.reactivated": "A suspended tenant was reactivated.",
    TenantPlanChanged = "tenant.plan.changed": "A tenant's plan changed.",
    UserInvited = "user.invited": "A person was invited to a tenant.",
    UserCreated = "user.created": "A person's account was created (directly, or at a first single sign-on).",
    UserRoleChanged = "user.role.changed": "A person's role changed.",
    UserDisabled = "user.disabled": "A person was disabled: their sessions and tokens ended.",
    UserArchived = "user.archived": "A person was deleted (archived).",
    FlagUpdated = "flag.updated": "A feature flag's definition, a plan's default, or a tenant's override changed.",
    SsoConnectionChanged = "sso.connection.changed": "A tenant's single sign-on connection was created, changed, activated, deactivated or deleted, or its enforcement changed.",
    AppKeyRevoked = "app.key.revoked": "An application's API key was revoked; its tokens stop working.",
    MaintenanceScheduled = "maintenance.scheduled": "An operator scheduled a maintenance window (its start, end and message). Sent to every tenant's endpoints subscribed to it, and to the platform's.",
    MaintenanceCancelled = "maintenance.cancelled": "A scheduled maintenance window was cancelled. Sent to every tenant's endpoints subscribed to it, and to the platform's.",
    WebhookTest = "webhook.test": "A test event sent from the console or the API to one endpoint.",
    SecurityAlert = "security.alert": "A detector found suspicious activity (failed sign-in bursts, credential stuffing, mass reads of personal data, an admin action at an unusual hour, introspection failures, a disabled application still calling): its detector, summary and count.",
}

/// The catalog as a string enum (written by hand: utoipa does not see the renames the
/// macro above writes).
impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_enum(
            EventType::ALL.iter().map(|t| t.as_str()),
            "An event type of the catalog.",
        )
    }
}

impl utoipa::ToSchema for EventType {}

/// The types an endpoint can subscribe to (every one but `webhook.test`), as a schema.
pub struct SubscribableEventType;

impl utoipa::PartialSchema for SubscribableEventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_enum(
            EventType::subscribable().map(EventType::as_str),
            "An event type an endpoint can subscribe to.",
        )
    }
}

impl utoipa::ToSchema for SubscribableEventType {}

fn string_enum<'a>(
    values: impl Iterator<Item = &'a str>,
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

impl EventType {
    /// Platform-wide announcements every tenant must hear (NFR-OPS-002): published with no
    /// tenant, they go to every endpoint subscribed to them, each tenant's as well as the
    /// platform's, and to every events stream.
    pub fn reaches_every_tenant(self) -> bool {
        matches!(
            self,
            EventType::MaintenanceScheduled | EventType::MaintenanceCancelled
        )
    }

    /// The types an endpoint can subscribe to (test events go to the endpoint they test).
    pub fn subscribable() -> impl Iterator<Item = EventType> {
        Self::ALL
            .iter()
            .copied()
            .filter(|t| *t != EventType::WebhookTest)
    }
}

/// Which audited actions publish which event, and which metadata they carry, renamed.
struct Publication {
    action: &'static str,
    event: EventType,
    /// (metadata key, data key)
    fields: &'static [(&'static str, &'static str)],
    /// `data.change`, for events that group several actions.
    change: Option<&'static str>,
}

const fn publishes(
    action: &'static str,
    event: EventType,
    fields: &'static [(&'static str, &'static str)],
) -> Publication {
    Publication {
        action,
        event,
        fields,
        change: None,
    }
}

const fn change(action: &'static str, event: EventType, change: &'static str) -> Publication {
    Publication {
        action,
        event,
        fields: &[("old", "previous"), ("new", "value"), ("plan", "plan")],
        change: Some(change),
    }
}

use EventType::*;

const PUBLISHED: &[Publication] = &[
    publishes(
        "tenant.create",
        TenantCreated,
        &[("name", "name"), ("domain", "domain"), ("plan", "plan")],
    ),
    publishes("tenant.suspend", TenantSuspended, &[("reason", "reason")]),
    publishes("tenant.reactivate", TenantReactivated, &[]),
    publishes(
        "tenant.plan.change",
        TenantPlanChanged,
        &[("old", "previous_plan"), ("new", "plan")],
    ),
    publishes(
        "user.invite",
        UserInvited,
        &[("email", "email"), ("role", "role")],
    ),
    publishes(
        "user.create",
        UserCreated,
        &[("email", "email"), ("role", "role"), ("status", "status")],
    ),
    publishes(
        "user.role.change",
        UserRoleChanged,
        &[("old", "previous_role"), ("new", "role")],
    ),
    publishes("user.disable", UserDisabled, &[]),
    publishes(
        "security.alert",
        SecurityAlert,
        &[
            ("detector", "detector"),
            ("summary", "summary"),
            ("count", "count"),
            ("window_minutes", "window_minutes"),
        ],
    ),
    publishes("user.archive", UserArchived, &[("email", "email")]),
    change("flag.update", FlagUpdated, "definition"),
    change("flag.plan_default.set", FlagUpdated, "plan_default"),
    change("flag.override.set", FlagUpdated, "override"),
    change("flag.override.clear", FlagUpdated, "override_cleared"),
    change("sso.connection.created", SsoConnectionChanged, "created"),
    change("sso.connection.updated", SsoConnectionChanged, "updated"),
    change(
        "sso.connection.refreshed",
        SsoConnectionChanged,
        "refreshed",
    ),
    change(
        "sso.connection.activated",
        SsoConnectionChanged,
        "activated",
    ),
    change(
        "sso.connection.deactivated",
        SsoConnectionChanged,
        "deactivated",
    ),
    change("sso.connection.deleted", SsoConnectionChanged, "deleted"),
    change(
        "sso.enforcement.changed",
        SsoConnectionChanged,
        "enforcement",
    ),
    publishes(
        "api_key.revoke",
        AppKeyRevoked,
        &[("application_id", "application_id")],
    ),
    publishes(
        "maintenance.schedule",
        MaintenanceScheduled,
        &[
            ("starts_at", "starts_at"),
            ("ends_at", "ends_at"),
            ("message", "message"),
        ],
    ),
    publishes(
        "maintenance.cancel",
        MaintenanceCancelled,
        &[
            ("starts_at", "starts_at"),
            ("ends_at", "ends_at"),
            ("message", "message"),
        ],
    ),
];

impl EventType {
    /// The fields of `data` particular to this type (beside `id`, `tenant_id` and
    /// `actor`), and the values of `data.change` where several changes share the type.
    pub fn data_fields(self) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut fields = Vec::new();
        let mut changes = Vec::new();
        for p in PUBLISHED.iter().filter(|p| p.event == self) {
            for (_, to) in p.fields {
                if !fields.contains(to) {
                    fields.push(*to);
                }
            }
            changes.extend(p.change);
        }
        if self == WebhookTest {
            fields = vec!["endpoint_id", "message"];
        }
        (fields, changes)
    }
}

/// The event a successful entry publishes, and its `data`: the changed resource's id,
/// its tenant, the actor, and the entry's metadata the catalog names (never the request's
/// address or user agent).
pub(crate) fn publication(entry: &AuditEntry) -> Option<(EventType, Value)> {
    if entry.outcome != Outcome::Success {
        return None;
    }
    let p = PUBLISHED.iter().find(|p| p.action == entry.action)?;
    let mut data = Map::new();
    if let Some(resource) = &entry.resource {
        let id = resource
            .split_once(':')
            .map_or(resource.as_str(), |(_, id)| id);
        data.insert("id".into(), Value::String(id.to_owned()));
    }
    data.insert("tenant_id".into(), json!(entry.tenant_id));
    if let Some(change) = p.change {
        data.insert("change".into(), Value::String(change.into()));
    }
    for (from, to) in p.fields {
        if let Some(value) = entry.metadata.get(*from) {
            data.insert((*to).into(), value.clone());
        }
    }
    data.insert(
        "actor".into(),
        json!({"type": entry.actor_type, "id": entry.actor_id}),
    );
    Some((p.event, Value::Object(data)))
}

/// The body every receiver gets (Standard Webhooks' recommended shape).
pub fn event_body(event: EventType, at: OffsetDateTime, data: Value) -> Value {
    json!({
        "type": event.as_str(),
        "timestamp": at.format(&Rfc3339).unwrap_or_default(),
        "data": data,
    })
}

/// Writes the event and one pending delivery for every endpoint subscribed to it (the
/// tenant's own and the platform's; every tenant's for the types that reach every tenant), inside the caller's transaction, and wakes the
/// workers at commit. Returns the event's id.
pub(crate) async fn publish(
    conn: &mut PgConnection,
    tenant_id: Option<Uuid>,
    event: EventType,
    data: Value,
) -> Result<Uuid, DomainError> {
    let id = Uuid::now_v7();
    let body = event_body(event, OffsetDateTime::now_utc(), data);
    sqlx::query(
        "WITH ev AS (
             INSERT INTO webhook_events (id, tenant_id, event_type, body)
             VALUES ($1, $2, $3, $4) RETURNING id, seq
         ), fan AS (
             INSERT INTO webhook_deliveries (endpoint_id, event_id)
             SELECT e.id, ev.id FROM webhook_endpoints e, ev
             WHERE e.status <> 'disabled' AND e.event_types @> ARRAY[$3]
               AND (e.tenant_id IS NULL OR e.tenant_id = $2 OR ($6 AND $2::uuid IS NULL))
             RETURNING 1
         )
         SELECT pg_notify($5, ev.seq::text), (SELECT count(*) FROM fan) FROM ev",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(event.as_str())
    .bind(body)
    .bind(EVENTS_CHANNEL)
    .bind(event.reaches_every_tenant())
    .execute(&mut *conn)
    .await
    .context("publishing the event")?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_parse_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                Value::String(t.as_str().into())
            );
        }
        assert_eq!(EventType::parse("USER.Created"), Some(UserCreated));
        assert_eq!(EventType::parse("user.deleted"), None);
        assert!(!EventType::subscribable().any(|t| t == WebhookTest));
    }

    #[test]
    fn published_actions_carry_their_named_fields_only() {
        let entry = AuditEntry::new("user.role.change")
            .tenant(Some(Uuid::nil()))
            .resource("user:abc")
            .meta("old", "user")
            .meta("new", "admin")
            .meta("ip", "192.0.2.1");
        let (event, data) = publication(&entry).unwrap();
        assert_eq!(event, UserRoleChanged);
        assert_eq!(data["id"], "abc");
        assert_eq!(data["previous_role"], "user");
        assert_eq!(data["role"], "admin");
        assert!(data.get("ip").is_none());
        assert!(publication(&entry.clone().failure()).is_none());
        assert!(publication(&AuditEntry::new("auth.login.success")).is_none());
        assert!(PUBLISHED
            .iter()
            .all(|p| EventType::subscribable().any(|t| t == p.event)));
    }
}
