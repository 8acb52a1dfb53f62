from enum import StrEnum

class BearerErrorCode(StrEnum):
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INVALID_TOKEN = "invalid_token"
    SERVER_ERROR = "server_error"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"

    def __str__(self) -> str:
        return str(self.value)
