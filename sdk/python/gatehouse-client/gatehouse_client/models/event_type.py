from enum import StrEnum

class EventType(StrEnum):
    APP_KEY_REVOKED = "app.key.revoked"
    FLAG_UPDATED = "flag.updated"
    MAINTENANCE_CANCELLED = "maintenance.cancelled"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled"
    SECURITY_ALERT = "security.alert"
    SSO_CONNECTION_CHANGED = "sso.connection.changed"
    TENANT_CREATED = "tenant.created"
    TENANT_PLAN_CHANGED = "tenant.plan.changed"
    TENANT_REACTIVATED = "tenant.reactivated"
    TENANT_SUSPENDED = "tenant.suspended"
    USER_ARCHIVED = "user.archived"
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    USER_INVITED = "user.invited"
    USER_ROLE_CHANGED = "user.role.changed"
    WEBHOOK_TEST = "webhook.test"

    def __str__(self) -> str:
        return str(self.value)
