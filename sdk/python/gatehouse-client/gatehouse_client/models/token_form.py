from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.grant_type import GrantType
from ..types import UNSET, Unset






T = TypeVar("T", bound="TokenForm")



@_attrs_define
class TokenForm:
    """ A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates with HTTP
    Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
    (`client_secret_post`), not both. A parameter given twice is refused.

        Attributes:
            grant_type (GrantType):
            code (str | Unset): `authorization_code`: the code from `/authorize` (single use, valid 60 seconds).
            redirect_uri (str | Unset): `authorization_code`: the redirect URI of the authorization request, exactly.
            code_verifier (str | Unset): `authorization_code`: the PKCE code verifier.
            refresh_token (str | Unset): `refresh_token`: the refresh token (single use; a reused one revokes its family).
            scope (str | Unset): `client_credentials`: space-separated scopes among the key's (all of them when
                absent). `refresh_token`: a subset of the granted scopes.
            tenant (str | Unset): `client_credentials`: the domain of the tenant to act for (needed when the
                application acts for several tenants and the key is bound to none).
            organization (str | Unset): Another name for `tenant`.
            client_id (str | Unset): `client_secret_post`: the client id. With Basic it may be repeated here, and must
                then match.
            client_secret (str | Unset): `client_secret_post`: the client secret.
     """

    grant_type: GrantType
    code: str | Unset = UNSET
    redirect_uri: str | Unset = UNSET
    code_verifier: str | Unset = UNSET
    refresh_token: str | Unset = UNSET
    scope: str | Unset = UNSET
    tenant: str | Unset = UNSET
    organization: str | Unset = UNSET
    client_id: str | Unset = UNSET
    client_secret: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        grant_type = self.grant_type.value

        code = self.code

        redirect_uri = self.redirect_uri

        code_verifier = self.code_verifier

        refresh_token = self.refresh_token

        scope = self.scope

        tenant = self.tenant

        organization = self.organization

        client_id = self.client_id

        client_secret = self.client_secret


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "grant_type": grant_type,
        })
        if code is not UNSET:
            field_dict["code"] = code
        if redirect_uri is not UNSET:
            field_dict["redirect_uri"] = redirect_uri
        if code_verifier is not UNSET:
            field_dict["code_verifier"] = code_verifier
        if refresh_token is not UNSET:
            field_dict["refresh_token"] = refresh_token
        if scope is not UNSET:
            field_dict["scope"] = scope
        if tenant is not UNSET:
            field_dict["tenant"] = tenant
        if organization is not UNSET:
            field_dict["organization"] = organization
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if client_secret is not UNSET:
            field_dict["client_secret"] = client_secret

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grant_type = GrantType(d.pop("grant_type"))




        code = d.pop("code", UNSET)

        redirect_uri = d.pop("redirect_uri", UNSET)

        code_verifier = d.pop("code_verifier", UNSET)

        refresh_token = d.pop("refresh_token", UNSET)

        scope = d.pop("scope", UNSET)

        tenant = d.pop("tenant", UNSET)

        organization = d.pop("organization", UNSET)

        client_id = d.pop("client_id", UNSET)

        client_secret = d.pop("client_secret", UNSET)

        token_form = cls(
            grant_type=grant_type,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            refresh_token=refresh_token,
            scope=scope,
            tenant=tenant,
            organization=organization,
            client_id=client_id,
            client_secret=client_secret,
        )


        token_form.additional_properties = d
        return token_form

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
