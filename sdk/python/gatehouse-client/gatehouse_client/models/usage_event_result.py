from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.usage_event_status import UsageEventStatus






T = TypeVar("T", bound="UsageEventResult")



@_attrs_define
class UsageEventResult:
    """ What became of one usage event.

        Attributes:
            id (str): The event's `id`, as sent.
            status (UsageEventStatus): The fate of one event of a batch: `accepted` (stored now), `duplicate` (its `id` was
                sent before with the same content: stored once, not again) or `conflict` (its `id` was
                sent before with other content: refused).
     """

    id: str
    status: UsageEventStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        status = UsageEventStatus(d.pop("status"))




        usage_event_result = cls(
            id=id,
            status=status,
        )


        usage_event_result.additional_properties = d
        return usage_event_result

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
