from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="Introspection")



@_attrs_define
class Introspection:
    """ What a token is (RFC 7662 §2.2). `{"active": false}` alone for a token that is unknown,
    expired, revoked, or none of the caller's business: a client sees the tokens of its own
    application, of the tenants its application acts for, or any with the `admin` scope.

        Attributes:
            active (bool): Whether the token is live.
            token_type (str | Unset): `Bearer` for an access token, `refresh_token` for a refresh token.
            scope (str | Unset): The space-separated scopes granted.
            client_id (str | Unset): The client the token was issued to.
            sub (str | Unset): The person's id, or the client id for an application's own token.
            aud (list[str] | Unset): Access tokens: the audiences.
            iss (str | Unset): The issuer.
            exp (int | Unset): Expiry, seconds since the epoch.
            iat (int | Unset): Issue time, seconds since the epoch.
            jti (UUID | Unset): Access tokens: the token id.
            tenant_id (None | Unset | UUID): The tenant the token acts for; `null` for a platform user or a tenantless
                token.
            roles (list[str] | Unset): Access tokens: the person's roles (empty for an application's own token).
            username (None | str | Unset): Access tokens of a person: always `null`.
     """

    active: bool
    token_type: str | Unset = UNSET
    scope: str | Unset = UNSET
    client_id: str | Unset = UNSET
    sub: str | Unset = UNSET
    aud: list[str] | Unset = UNSET
    iss: str | Unset = UNSET
    exp: int | Unset = UNSET
    iat: int | Unset = UNSET
    jti: UUID | Unset = UNSET
    tenant_id: None | Unset | UUID = UNSET
    roles: list[str] | Unset = UNSET
    username: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        active = self.active

        token_type = self.token_type

        scope = self.scope

        client_id = self.client_id

        sub = self.sub

        aud: list[str] | Unset = UNSET
        if not isinstance(self.aud, Unset):
            aud = self.aud



        iss = self.iss

        exp = self.exp

        iat = self.iat

        jti: str | Unset = UNSET
        if not isinstance(self.jti, Unset):
            jti = str(self.jti)

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        elif isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        roles: list[str] | Unset = UNSET
        if not isinstance(self.roles, Unset):
            roles = self.roles



        username: None | str | Unset
        if isinstance(self.username, Unset):
            username = UNSET
        else:
            username = self.username


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "active": active,
        })
        if token_type is not UNSET:
            field_dict["token_type"] = token_type
        if scope is not UNSET:
            field_dict["scope"] = scope
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if sub is not UNSET:
            field_dict["sub"] = sub
        if aud is not UNSET:
            field_dict["aud"] = aud
        if iss is not UNSET:
            field_dict["iss"] = iss
        if exp is not UNSET:
            field_dict["exp"] = exp
        if iat is not UNSET:
            field_dict["iat"] = iat
        if jti is not UNSET:
            field_dict["jti"] = jti
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if roles is not UNSET:
            field_dict["roles"] = roles
        if username is not UNSET:
            field_dict["username"] = username

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        active = d.pop("active")

        token_type = d.pop("token_type", UNSET)

        scope = d.pop("scope", UNSET)

        client_id = d.pop("client_id", UNSET)

        sub = d.pop("sub", UNSET)

        aud = cast(list[str], d.pop("aud", UNSET))


        iss = d.pop("iss", UNSET)

        exp = d.pop("exp", UNSET)

        iat = d.pop("iat", UNSET)

        _jti = d.pop("jti", UNSET)
        jti: UUID | Unset
        if isinstance(_jti,  Unset):
            jti = UNSET
        else:
            jti = UUID(_jti)




        def _parse_tenant_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tenant_id_type_0 = UUID(data)



                return tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))


        roles = cast(list[str], d.pop("roles", UNSET))


        def _parse_username(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        username = _parse_username(d.pop("username", UNSET))


        introspection = cls(
            active=active,
            token_type=token_type,
            scope=scope,
            client_id=client_id,
            sub=sub,
            aud=aud,
            iss=iss,
            exp=exp,
            iat=iat,
            jti=jti,
            tenant_id=tenant_id,
            roles=roles,
            username=username,
        )


        introspection.additional_properties = d
        return introspection

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
