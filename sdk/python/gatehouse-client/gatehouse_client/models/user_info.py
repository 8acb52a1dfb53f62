from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="UserInfo")



@_attrs_define
class UserInfo:
    """ The claims about the person a token stands for (OpenID Connect Core §5.3), by the
    scopes granted: `email` adds `email` and `email_verified`, `profile` adds `name`.

        Attributes:
            sub (str): The person's id.
            roles (list[str]): The person's role, as a one-element list.
            tenant_id (None | Unset | UUID): The person's tenant; `null` for a platform user.
            email (str | Unset): With `email`.
            email_verified (bool | Unset): With `email`.
            name (None | str | Unset): With `profile`; `null` when the person has not given one.
     """

    sub: str
    roles: list[str]
    tenant_id: None | Unset | UUID = UNSET
    email: str | Unset = UNSET
    email_verified: bool | Unset = UNSET
    name: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        sub = self.sub

        roles = self.roles



        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        elif isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        email = self.email

        email_verified = self.email_verified

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "sub": sub,
            "roles": roles,
        })
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if email is not UNSET:
            field_dict["email"] = email
        if email_verified is not UNSET:
            field_dict["email_verified"] = email_verified
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sub = d.pop("sub")

        roles = cast(list[str], d.pop("roles"))


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


        email = d.pop("email", UNSET)

        email_verified = d.pop("email_verified", UNSET)

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))


        user_info = cls(
            sub=sub,
            roles=roles,
            tenant_id=tenant_id,
            email=email,
            email_verified=email_verified,
            name=name,
        )


        user_info.additional_properties = d
        return user_info

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
