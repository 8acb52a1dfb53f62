from enum import StrEnum

class FlagSource(StrEnum):
    DEFAULT = "default"
    OVERRIDE = "override"
    PLAN = "plan"
    ROLLOUT = "rollout"

    def __str__(self) -> str:
        return str(self.value)
