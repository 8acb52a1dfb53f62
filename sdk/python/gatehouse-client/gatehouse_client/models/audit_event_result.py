from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.audit_event_status import AuditEventStatus






T = TypeVar("T", bound="AuditEventResult")



@_attrs_define
class AuditEventResult:
    """ What became of one audit event.

        Attributes:
            id (str): The event's `id`, as sent.
            status (AuditEventStatus): How one event of a batch was taken: `accepted` (stored now), or `duplicate` (its `id`
                was sent before: stored once, not again).
            seq (int): The entry's position in the chain (the first one's, for a duplicate).
     """

    id: str
    status: AuditEventStatus
    seq: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        seq = self.seq


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "status": status,
            "seq": seq,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        status = AuditEventStatus(d.pop("status"))




        seq = d.pop("seq")

        audit_event_result = cls(
            id=id,
            status=status,
            seq=seq,
        )


        audit_event_result.additional_properties = d
        return audit_event_result

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
