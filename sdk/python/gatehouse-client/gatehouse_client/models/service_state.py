from enum import StrEnum

class ServiceState(StrEnum):
    MAINTENANCE = "maintenance"
    OK = "ok"

    def __str__(self) -> str:
        return str(self.value)
