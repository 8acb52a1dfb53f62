from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.settable_status import SettableStatus
from ..models.tenant_role import TenantRole
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="UserChanges")



@_attrs_define
class UserChanges:
    """ A change to a person: only the fields present change (`null` clears the name).

        Attributes:
            name (None | str | Unset):
            role (TenantRole | Unset): The roles a tenant's person can have.
            status (SettableStatus | Unset): The statuses a person can be set to (deleting archives).
            email (str | Unset): Not set at once: a confirmation link goes to the new address (the answer carries
                `pending_email`), and the address changes when it is followed.
     """

    name: None | str | Unset = UNSET
    role: TenantRole | Unset = UNSET
    status: SettableStatus | Unset = UNSET
    email: str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value


        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value


        email = self.email


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if name is not UNSET:
            field_dict["name"] = name
        if role is not UNSET:
            field_dict["role"] = role
        if status is not UNSET:
            field_dict["status"] = status
        if email is not UNSET:
            field_dict["email"] = email

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))


        _role = d.pop("role", UNSET)
        role: TenantRole | Unset
        if isinstance(_role,  Unset):
            role = UNSET
        else:
            role = TenantRole(_role)




        _status = d.pop("status", UNSET)
        status: SettableStatus | Unset
        if isinstance(_status,  Unset):
            status = UNSET
        else:
            status = SettableStatus(_status)




        email = d.pop("email", UNSET)

        user_changes = cls(
            name=name,
            role=role,
            status=status,
            email=email,
        )

        return user_changes

