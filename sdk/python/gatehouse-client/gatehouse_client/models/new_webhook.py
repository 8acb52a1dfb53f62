from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.subscribable_event_type import SubscribableEventType
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="NewWebhook")



@_attrs_define
class NewWebhook:
    """ A new endpoint.

        Attributes:
            url (str): Where events are POSTed: https (plain http only to loopback in development). Private,
                loopback and link-local addresses are refused, also after DNS resolution.
            event_types (list[SubscribableEventType]): The event types to receive (1 to 50).
            description (None | str | Unset):
            rate_limit_per_second (int | None | Unset): At most this many messages a second (1-1000, default 20).
     """

    url: str
    event_types: list[SubscribableEventType]
    description: None | str | Unset = UNSET
    rate_limit_per_second: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        url = self.url

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.value
            event_types.append(event_types_item)



        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        rate_limit_per_second: int | None | Unset
        if isinstance(self.rate_limit_per_second, Unset):
            rate_limit_per_second = UNSET
        else:
            rate_limit_per_second = self.rate_limit_per_second


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "url": url,
            "event_types": event_types,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if rate_limit_per_second is not UNSET:
            field_dict["rate_limit_per_second"] = rate_limit_per_second

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in (_event_types):
            event_types_item = SubscribableEventType(event_types_item_data)



            event_types.append(event_types_item)


        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))


        def _parse_rate_limit_per_second(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit_per_second = _parse_rate_limit_per_second(d.pop("rate_limit_per_second", UNSET))


        new_webhook = cls(
            url=url,
            event_types=event_types,
            description=description,
            rate_limit_per_second=rate_limit_per_second,
        )

        return new_webhook

