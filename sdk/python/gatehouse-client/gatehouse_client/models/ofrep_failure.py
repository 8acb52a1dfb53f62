from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ofrep_error_code import OfrepErrorCode
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="OfrepFailure")



@_attrs_define
class OfrepFailure:
    """ An evaluation that failed (OFREP's error format).

        Attributes:
            error_code (OfrepErrorCode): OFREP's error codes: `PARSE_ERROR` (the body is not JSON), `INVALID_CONTEXT` (a
                context attribute is wrong, or a token for several tenants names none) and
                `TARGETING_KEY_MISSING` (a flag rolled out by percentage needs a `targetingKey`).
            error_details (str): Why, for people.
            key (None | str | Unset): The flag's key, where the failure concerns one flag.
     """

    error_code: OfrepErrorCode
    error_details: str
    key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        error_code = self.error_code.value

        error_details = self.error_details

        key: None | str | Unset
        if isinstance(self.key, Unset):
            key = UNSET
        else:
            key = self.key


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "errorCode": error_code,
            "errorDetails": error_details,
        })
        if key is not UNSET:
            field_dict["key"] = key

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        error_code = OfrepErrorCode(d.pop("errorCode"))




        error_details = d.pop("errorDetails")

        def _parse_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key = _parse_key(d.pop("key", UNSET))


        ofrep_failure = cls(
            error_code=error_code,
            error_details=error_details,
            key=key,
        )


        ofrep_failure.additional_properties = d
        return ofrep_failure

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
