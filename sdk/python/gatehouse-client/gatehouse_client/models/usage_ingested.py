from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.usage_event_result import UsageEventResult





T = TypeVar("T", bound="UsageIngested")



@_attrs_define
class UsageIngested:
    """ What became of a request's usage events, in the order sent.

        Attributes:
            data (list[UsageEventResult]): One answer per event.
            accepted (int): Events stored now.
            duplicates (int): Events sent before with the same content: stored once, not again.
            conflicts (int): Events whose `id` was sent before with other content: refused.
     """

    data: list[UsageEventResult]
    accepted: int
    duplicates: int
    conflicts: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_event_result import UsageEventResult # noqa: PLC0415
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



        accepted = self.accepted

        duplicates = self.duplicates

        conflicts = self.conflicts


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "data": data,
            "accepted": accepted,
            "duplicates": duplicates,
            "conflicts": conflicts,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_event_result import UsageEventResult # noqa: PLC0415
        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = UsageEventResult.from_dict(data_item_data)



            data.append(data_item)


        accepted = d.pop("accepted")

        duplicates = d.pop("duplicates")

        conflicts = d.pop("conflicts")

        usage_ingested = cls(
            data=data,
            accepted=accepted,
            duplicates=duplicates,
            conflicts=conflicts,
        )


        usage_ingested.additional_properties = d
        return usage_ingested

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
