from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.void_status import VoidStatus
from typing import cast
import datetime






T = TypeVar("T", bound="Voided")



@_attrs_define
class Voided:
    """ The answer to a void: the event as it was reported, and what became of it.

        Attributes:
            id (str): The event's `id`, as reported.
            status (VoidStatus): What a void did: `voided` now, or `already_voided` before (nothing changed).
            event_type (str):
            quantity (int): The quantity that no longer counts.
            timestamp (datetime.datetime): When the event happened (UTC).
     """

    id: str
    status: VoidStatus
    event_type: str
    quantity: int
    timestamp: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        event_type = self.event_type

        quantity = self.quantity

        timestamp = self.timestamp.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "status": status,
            "event_type": event_type,
            "quantity": quantity,
            "timestamp": timestamp,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        status = VoidStatus(d.pop("status"))




        event_type = d.pop("event_type")

        quantity = d.pop("quantity")

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))




        voided = cls(
            id=id,
            status=status,
            event_type=event_type,
            quantity=quantity,
            timestamp=timestamp,
        )


        voided.additional_properties = d
        return voided

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
