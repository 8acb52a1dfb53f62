from enum import StrEnum

class OfrepReason(StrEnum):
    DEFAULT = "DEFAULT"
    SPLIT = "SPLIT"
    TARGETING_MATCH = "TARGETING_MATCH"

    def __str__(self) -> str:
        return str(self.value)
