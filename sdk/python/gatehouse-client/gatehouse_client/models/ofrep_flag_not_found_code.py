from enum import StrEnum

class OfrepFlagNotFoundCode(StrEnum):
    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"

    def __str__(self) -> str:
        return str(self.value)
