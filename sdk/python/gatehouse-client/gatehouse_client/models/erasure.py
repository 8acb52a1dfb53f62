from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from uuid import UUID






T = TypeVar("T", bound="Erasure")



@_attrs_define
class Erasure:
    """ What an erasure removed.

        Attributes:
            user_id (UUID):
            sessions_revoked (int):
            factors_removed (int): TOTP authenticators, passkeys, recovery codes and trusted devices.
            mails_purged (int): Mail to the person that had not gone out, or had, and was still in the outbox.
            keys_destroyed (int): Data keys destroyed: the person's and their addresses'.
     """

    user_id: UUID
    sessions_revoked: int
    factors_removed: int
    mails_purged: int
    keys_destroyed: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        sessions_revoked = self.sessions_revoked

        factors_removed = self.factors_removed

        mails_purged = self.mails_purged

        keys_destroyed = self.keys_destroyed


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "user_id": user_id,
            "sessions_revoked": sessions_revoked,
            "factors_removed": factors_removed,
            "mails_purged": mails_purged,
            "keys_destroyed": keys_destroyed,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))




        sessions_revoked = d.pop("sessions_revoked")

        factors_removed = d.pop("factors_removed")

        mails_purged = d.pop("mails_purged")

        keys_destroyed = d.pop("keys_destroyed")

        erasure = cls(
            user_id=user_id,
            sessions_revoked=sessions_revoked,
            factors_removed=factors_removed,
            mails_purged=mails_purged,
            keys_destroyed=keys_destroyed,
        )


        erasure.additional_properties = d
        return erasure

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
