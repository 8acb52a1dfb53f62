from enum import StrEnum

class OfrepErrorCode(StrEnum):
    INVALID_CONTEXT = "INVALID_CONTEXT"
    PARSE_ERROR = "PARSE_ERROR"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"

    def __str__(self) -> str:
        return str(self.value)
