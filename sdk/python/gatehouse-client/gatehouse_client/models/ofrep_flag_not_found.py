from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ofrep_flag_not_found_code import OfrepFlagNotFoundCode






T = TypeVar("T", bound="OfrepFlagNotFound")



@_attrs_define
class OfrepFlagNotFound:
    """ No flag has the key (OFREP).

        Attributes:
            key (str): The key asked for.
            error_code (OfrepFlagNotFoundCode): The code of an unknown flag.
            error_details (str): Why, for people.
     """

    key: str
    error_code: OfrepFlagNotFoundCode
    error_details: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        error_code = self.error_code.value

        error_details = self.error_details


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "errorCode": error_code,
            "errorDetails": error_details,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        error_code = OfrepFlagNotFoundCode(d.pop("errorCode"))




        error_details = d.pop("errorDetails")

        ofrep_flag_not_found = cls(
            key=key,
            error_code=error_code,
            error_details=error_details,
        )


        ofrep_flag_not_found.additional_properties = d
        return ofrep_flag_not_found

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
