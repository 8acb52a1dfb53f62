from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.event_type import EventType






T = TypeVar("T", bound="EventTypeInfo")



@_attrs_define
class EventTypeInfo:
    """ One type of the catalog.

        Attributes:
            name (EventType): An event type of the catalog.
            description (str):
            subscribable (bool): Whether an endpoint can subscribe to it (`webhook.test` goes to the endpoint tested).
     """

    name: EventType
    description: str
    subscribable: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name.value

        description = self.description

        subscribable = self.subscribable


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "description": description,
            "subscribable": subscribable,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = EventType(d.pop("name"))




        description = d.pop("description")

        subscribable = d.pop("subscribable")

        event_type_info = cls(
            name=name,
            description=description,
            subscribable=subscribable,
        )


        event_type_info.additional_properties = d
        return event_type_info

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
