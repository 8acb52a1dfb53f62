from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role import Role
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="PendingInvitation")



@_attrs_define
class PendingInvitation:
    """ An invitation not yet accepted nor revoked.

        Attributes:
            id (UUID):
            user_id (UUID): The invited person (status `invited`).
            email (str):
            role (Role): DAT-ROLE: tenant roles and platform roles (SPEC §2).
            expires_at (datetime.datetime):
            created_at (datetime.datetime):
            expired (bool): The link's expiry has passed; resending makes a new one.
            invited_by (None | str | Unset): The name (or email) of whoever invited them.
     """

    id: UUID
    user_id: UUID
    email: str
    role: Role
    expires_at: datetime.datetime
    created_at: datetime.datetime
    expired: bool
    invited_by: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        user_id = str(self.user_id)

        email = self.email

        role = self.role.value

        expires_at = self.expires_at.isoformat()

        created_at = self.created_at.isoformat()

        expired = self.expired

        invited_by: None | str | Unset
        if isinstance(self.invited_by, Unset):
            invited_by = UNSET
        else:
            invited_by = self.invited_by


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "user_id": user_id,
            "email": email,
            "role": role,
            "expires_at": expires_at,
            "created_at": created_at,
            "expired": expired,
        })
        if invited_by is not UNSET:
            field_dict["invited_by"] = invited_by

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))




        user_id = UUID(d.pop("user_id"))




        email = d.pop("email")

        role = Role(d.pop("role"))




        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        expired = d.pop("expired")

        def _parse_invited_by(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        invited_by = _parse_invited_by(d.pop("invited_by", UNSET))


        pending_invitation = cls(
            id=id,
            user_id=user_id,
            email=email,
            role=role,
            expires_at=expires_at,
            created_at=created_at,
            expired=expired,
            invited_by=invited_by,
        )


        pending_invitation.additional_properties = d
        return pending_invitation

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
