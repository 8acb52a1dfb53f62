from enum import StrEnum

class MfaPolicy(StrEnum):
    ADMINS = "admins"
    EVERYONE = "everyone"
    OFF = "off"

    def __str__(self) -> str:
        return str(self.value)
