from enum import StrEnum

class Prompt(StrEnum):
    CONSENT = "consent"
    LOGIN = "login"
    NONE = "none"
    SELECT_ACCOUNT = "select_account"

    def __str__(self) -> str:
        return str(self.value)
