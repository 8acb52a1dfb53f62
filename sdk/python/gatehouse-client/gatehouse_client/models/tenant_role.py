from enum import StrEnum

class TenantRole(StrEnum):
    ADMIN = "admin"
    OWNER = "owner"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
