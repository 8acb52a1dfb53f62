from enum import StrEnum

class UsageTotalsWindow(StrEnum):
    DAY = "day"
    MONTH = "month"

    def __str__(self) -> str:
        return str(self.value)
