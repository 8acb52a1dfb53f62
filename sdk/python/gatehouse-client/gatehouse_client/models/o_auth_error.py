from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.o_auth_error_code import OAuthErrorCode






T = TypeVar("T", bound="OAuthError")



@_attrs_define
class OAuthError:
    """ An OAuth error (RFC 6749 §5.2): a code a client can act on and a description for its
    developer. Answered with `Cache-Control: no-store`.

        Attributes:
            error (OAuthErrorCode): The error codes of OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1) and OpenID
                Connect (Core §3.1.2.6) that Gatehouse answers. Which HTTP status each gets is the
                server's business.
            error_description (str): What went wrong, for the developer of the client (not meant for end users).
     """

    error: OAuthErrorCode
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
        error = OAuthErrorCode(d.pop("error"))




        error_description = d.pop("error_description")

        o_auth_error = cls(
            error=error,
            error_description=error_description,
        )


        o_auth_error.additional_properties = d
        return o_auth_error

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
