from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="UsageTotal")



@_attrs_define
class UsageTotal:
    """ One total: a tenant's quantity and event count of a type in a window (UTC).

        Attributes:
            tenant (str): The tenant's domain.
            event_type (str):
            period (datetime.date): The window's first day, `YYYY-MM-DD`.
            quantity (str): Exact (the sum of whole quantities may pass 2^53, so it is a decimal string).
            events (int): Events counted (voids subtracted).
     """

    tenant: str
    event_type: str
    period: datetime.date
    quantity: str
    events: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        tenant = self.tenant

        event_type = self.event_type

        period = self.period.isoformat()

        quantity = self.quantity

        events = self.events


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "tenant": tenant,
            "event_type": event_type,
            "period": period,
            "quantity": quantity,
            "events": events,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant = d.pop("tenant")

        event_type = d.pop("event_type")

        period = datetime.date.fromisoformat(d.pop("period"))




        quantity = d.pop("quantity")

        events = d.pop("events")

        usage_total = cls(
            tenant=tenant,
            event_type=event_type,
            period=period,
            quantity=quantity,
            events=events,
        )


        usage_total.additional_properties = d
        return usage_total

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
