from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="TokenResponse")



@_attrs_define
class TokenResponse:
    """ A successful token response (RFC 6749 §5.1), answered with `Cache-Control: no-store`.

        Attributes:
            access_token (str): The access token: a JWT (`typ: at+jwt`, RFC 9068) with the claims `iss sub aud exp
                iat jti scope tenant_id roles client_id`, verifiable with the JWKS.
            token_type (str): Always `Bearer`.
            expires_in (int): Seconds until the access token expires (at most 3600).
            scope (str): The space-separated scopes granted.
            refresh_token (str | Unset): Present when the application may use the `refresh_token` grant (person tokens
                only): opaque, single use, valid 30 days.
            id_token (str | Unset): Present when `openid` was granted: an ID token (OpenID Connect Core §2), RS256.
     """

    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | Unset = UNSET
    id_token: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        token_type = self.token_type

        expires_in = self.expires_in

        scope = self.scope

        refresh_token = self.refresh_token

        id_token = self.id_token


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "access_token": access_token,
            "token_type": token_type,
            "expires_in": expires_in,
            "scope": scope,
        })
        if refresh_token is not UNSET:
            field_dict["refresh_token"] = refresh_token
        if id_token is not UNSET:
            field_dict["id_token"] = id_token

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        access_token = d.pop("access_token")

        token_type = d.pop("token_type")

        expires_in = d.pop("expires_in")

        scope = d.pop("scope")

        refresh_token = d.pop("refresh_token", UNSET)

        id_token = d.pop("id_token", UNSET)

        token_response = cls(
            access_token=access_token,
            token_type=token_type,
            expires_in=expires_in,
            scope=scope,
            refresh_token=refresh_token,
            id_token=id_token,
        )


        token_response.additional_properties = d
        return token_response

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
