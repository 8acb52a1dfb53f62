from enum import StrEnum

class KeyScope(StrEnum):
    ADMIN = "admin"
    APPSREAD = "apps:read"
    APPSWRITE = "apps:write"
    BILLREAD = "bill:read"
    BILLWRITE = "bill:write"
    EMAIL = "email"
    FLAGREAD = "flag:read"
    LOGREAD = "log:read"
    LOGWRITE = "log:write"
    OFFLINE_ACCESS = "offline_access"
    OPENID = "openid"
    PROFILE = "profile"
    TENANTSREAD = "tenants:read"
    TENANTSWRITE = "tenants:write"
    USERSREAD = "users:read"
    USERSWRITE = "users:write"
    WEBHOOKSREAD = "webhooks:read"
    WEBHOOKSWRITE = "webhooks:write"

    def __str__(self) -> str:
        return str(self.value)
