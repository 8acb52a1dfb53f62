from enum import StrEnum

class LocationSignal(StrEnum):
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    NEW_COUNTRY = "new_country"
    UNUSUAL_HOUR = "unusual_hour"

    def __str__(self) -> str:
        return str(self.value)
