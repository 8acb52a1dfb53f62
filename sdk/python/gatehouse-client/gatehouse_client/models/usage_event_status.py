from enum import StrEnum

class UsageEventStatus(StrEnum):
    ACCEPTED = "accepted"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"

    def __str__(self) -> str:
        return str(self.value)
