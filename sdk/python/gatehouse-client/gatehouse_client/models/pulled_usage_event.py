from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="PulledUsageEvent")



@_attrs_define
class PulledUsageEvent:
    """ One event as the billing system reads it.

        Attributes:
            kind (str): `event`, or `void`: the event of this `id` no longer counts (subtract it).
            tenant (str): The tenant's domain.
            event_type (str):
            quantity (int): The event's quantity (for a void, the quantity to subtract).
            timestamp (datetime.datetime): When it happened (UTC).
            received_at (datetime.datetime): When it was stored (UTC).
            metadata (Any): The event's metadata (for a void, its `reason`).
            id (None | str | Unset): The application's id of the event (for a void, of the event it voids).
     """

    kind: str
    tenant: str
    event_type: str
    quantity: int
    timestamp: datetime.datetime
    received_at: datetime.datetime
    metadata: Any
    id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        tenant = self.tenant

        event_type = self.event_type

        quantity = self.quantity

        timestamp = self.timestamp.isoformat()

        received_at = self.received_at.isoformat()

        metadata = self.metadata

        id: None | str | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "kind": kind,
            "tenant": tenant,
            "event_type": event_type,
            "quantity": quantity,
            "timestamp": timestamp,
            "received_at": received_at,
            "metadata": metadata,
        })
        if id is not UNSET:
            field_dict["id"] = id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = d.pop("kind")

        tenant = d.pop("tenant")

        event_type = d.pop("event_type")

        quantity = d.pop("quantity")

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))




        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))




        metadata = d.pop("metadata")

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))


        pulled_usage_event = cls(
            kind=kind,
            tenant=tenant,
            event_type=event_type,
            quantity=quantity,
            timestamp=timestamp,
            received_at=received_at,
            metadata=metadata,
            id=id,
        )


        pulled_usage_event.additional_properties = d
        return pulled_usage_event

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
