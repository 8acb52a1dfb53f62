from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.audit_event_result import AuditEventResult





T = TypeVar("T", bound="AuditIngested")



@_attrs_define
class AuditIngested:
    """ What became of a request's audit events, in the order sent.

        Attributes:
            data (list[AuditEventResult]): One answer per event.
            accepted (int): Events stored now.
            duplicates (int): Events whose `id` was sent before: stored once, not again.
     """

    data: list[AuditEventResult]
    accepted: int
    duplicates: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_event_result import AuditEventResult # noqa: PLC0415
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



        accepted = self.accepted

        duplicates = self.duplicates


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "data": data,
            "accepted": accepted,
            "duplicates": duplicates,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_result import AuditEventResult # noqa: PLC0415
        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = AuditEventResult.from_dict(data_item_data)



            data.append(data_item)


        accepted = d.pop("accepted")

        duplicates = d.pop("duplicates")

        audit_ingested = cls(
            data=data,
            accepted=accepted,
            duplicates=duplicates,
        )


        audit_ingested.additional_properties = d
        return audit_ingested

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
