from enum import StrEnum

class VoidStatus(StrEnum):
    ALREADY_VOIDED = "already_voided"
    VOIDED = "voided"

    def __str__(self) -> str:
        return str(self.value)
