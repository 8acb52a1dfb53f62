from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.rejected_line import RejectedLine





T = TypeVar("T", bound="BulkReport")



@_attrs_define
class BulkReport:
    """ The answer of a bulk request: what became of its lines.

        Attributes:
            lines (int): Lines read (blank lines are skipped and not counted).
            accepted (int): Events stored now.
            duplicates (int): Events whose id was sent before (usage events: with the same content): stored once,
                not again.
            rejected (int): Lines rejected (not JSON, or an invalid event): nothing of them is stored.
            rejected_lines (list[RejectedLine]): The rejected lines with their reasons, the first 1,000 of them.
            rejected_lines_truncated (bool): More lines were rejected than are named.
            line_limit_reached (bool): The request carried more than 1,000,000 lines: reading stopped at the limit.
            conflicts (int | None | Unset): Ids sent before with other content: refused (usage events only).
     """

    lines: int
    accepted: int
    duplicates: int
    rejected: int
    rejected_lines: list[RejectedLine]
    rejected_lines_truncated: bool
    line_limit_reached: bool
    conflicts: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.rejected_line import RejectedLine # noqa: PLC0415
        lines = self.lines

        accepted = self.accepted

        duplicates = self.duplicates

        rejected = self.rejected

        rejected_lines = []
        for rejected_lines_item_data in self.rejected_lines:
            rejected_lines_item = rejected_lines_item_data.to_dict()
            rejected_lines.append(rejected_lines_item)



        rejected_lines_truncated = self.rejected_lines_truncated

        line_limit_reached = self.line_limit_reached

        conflicts: int | None | Unset
        if isinstance(self.conflicts, Unset):
            conflicts = UNSET
        else:
            conflicts = self.conflicts


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "lines": lines,
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
            "rejected_lines": rejected_lines,
            "rejected_lines_truncated": rejected_lines_truncated,
            "line_limit_reached": line_limit_reached,
        })
        if conflicts is not UNSET:
            field_dict["conflicts"] = conflicts

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rejected_line import RejectedLine # noqa: PLC0415
        d = dict(src_dict)
        lines = d.pop("lines")

        accepted = d.pop("accepted")

        duplicates = d.pop("duplicates")

        rejected = d.pop("rejected")

        rejected_lines = []
        _rejected_lines = d.pop("rejected_lines")
        for rejected_lines_item_data in (_rejected_lines):
            rejected_lines_item = RejectedLine.from_dict(rejected_lines_item_data)



            rejected_lines.append(rejected_lines_item)


        rejected_lines_truncated = d.pop("rejected_lines_truncated")

        line_limit_reached = d.pop("line_limit_reached")

        def _parse_conflicts(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        conflicts = _parse_conflicts(d.pop("conflicts", UNSET))


        bulk_report = cls(
            lines=lines,
            accepted=accepted,
            duplicates=duplicates,
            rejected=rejected,
            rejected_lines=rejected_lines,
            rejected_lines_truncated=rejected_lines_truncated,
            line_limit_reached=line_limit_reached,
            conflicts=conflicts,
        )


        bulk_report.additional_properties = d
        return bulk_report

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
