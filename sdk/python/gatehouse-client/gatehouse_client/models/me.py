from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.caller_type import CallerType
from ..models.role import Role
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="Me")



@_attrs_define
class Me:
    """ Who a token belongs to.

        Attributes:
            type_ (CallerType): What holds a token.
            sub (str): The token's subject: the person's id, or the key's client_id.
            roles (list[Role]): The person's roles; empty for an application's token.
            scopes (list[str]): The scopes granted.
            client_id (str): The key (OAuth client) the token was issued to.
            application_id (UUID): The key's application.
            expires_at (int): When the token expires, in seconds since 1970-01-01T00:00:00Z.
            user_id (None | Unset | UUID): The person; `null` for an application's token.
            tenant_id (None | Unset | UUID): The tenant the token acts for, if one.
     """

    type_: CallerType
    sub: str
    roles: list[Role]
    scopes: list[str]
    client_id: str
    application_id: UUID
    expires_at: int
    user_id: None | Unset | UUID = UNSET
    tenant_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        sub = self.sub

        roles = []
        for roles_item_data in self.roles:
            roles_item = roles_item_data.value
            roles.append(roles_item)



        scopes = self.scopes



        client_id = self.client_id

        application_id = str(self.application_id)

        expires_at = self.expires_at

        user_id: None | str | Unset
        if isinstance(self.user_id, Unset):
            user_id = UNSET
        elif isinstance(self.user_id, UUID):
            user_id = str(self.user_id)
        else:
            user_id = self.user_id

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        elif isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "type": type_,
            "sub": sub,
            "roles": roles,
            "scopes": scopes,
            "client_id": client_id,
            "application_id": application_id,
            "expires_at": expires_at,
        })
        if user_id is not UNSET:
            field_dict["user_id"] = user_id
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = CallerType(d.pop("type"))




        sub = d.pop("sub")

        roles = []
        _roles = d.pop("roles")
        for roles_item_data in (_roles):
            roles_item = Role(roles_item_data)



            roles.append(roles_item)


        scopes = cast(list[str], d.pop("scopes"))


        client_id = d.pop("client_id")

        application_id = UUID(d.pop("application_id"))




        expires_at = d.pop("expires_at")

        def _parse_user_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                user_id_type_0 = UUID(data)



                return user_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))


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


        me = cls(
            type_=type_,
            sub=sub,
            roles=roles,
            scopes=scopes,
            client_id=client_id,
            application_id=application_id,
            expires_at=expires_at,
            user_id=user_id,
            tenant_id=tenant_id,
        )


        me.additional_properties = d
        return me

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
