from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.bearer_error_code import BearerErrorCode






T = TypeVar("T", bound="BearerError")



@_attrs_define
class BearerError:
    """ A bearer-token error of `/userinfo` (RFC 6750 §3.1). The same code and description are
    in the `WWW-Authenticate: Bearer` challenge.

        Attributes:
            error (BearerErrorCode): The error codes of `/userinfo`.
            error_description (str): What went wrong, for the developer of the client.
     """

    error: BearerErrorCode
    error_description: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        error = self.error.value

        error_description = self.error_description


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "error": error,
            "error_description": error_description,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        error = BearerErrorCode(d.pop("error"))




        error_description = d.pop("error_description")

        bearer_error = cls(
            error=error,
            error_description=error_description,
        )


        bearer_error.additional_properties = d
        return bearer_error

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
