from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.ofrep_evaluation import OfrepEvaluation
  from ..models.ofrep_failure import OfrepFailure





T = TypeVar("T", bound="OfrepBulkEvaluation")



@_attrs_define
class OfrepBulkEvaluation:
    """ The flags of a bulk evaluation (OFREP).

        Attributes:
            flags (list[OfrepEvaluation | OfrepFailure]): Every flag of the tenant, ordered by key: its evaluation, or why
                it could not be
                evaluated.
     """

    flags: list[OfrepEvaluation | OfrepFailure]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ofrep_evaluation import OfrepEvaluation # noqa: PLC0415
        from ..models.ofrep_failure import OfrepFailure # noqa: PLC0415
        flags = []
        for flags_item_data in self.flags:
            flags_item: dict[str, Any]
            if isinstance(flags_item_data, OfrepEvaluation):
                flags_item = flags_item_data.to_dict()
            else:
                flags_item = flags_item_data.to_dict()

            flags.append(flags_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flags": flags,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ofrep_evaluation import OfrepEvaluation # noqa: PLC0415
        from ..models.ofrep_failure import OfrepFailure # noqa: PLC0415
        d = dict(src_dict)
        flags = []
        _flags = d.pop("flags")
        for flags_item_data in (_flags):
            def _parse_flags_item(data: object) -> OfrepEvaluation | OfrepFailure:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_ofrep_bulk_item_type_0 = OfrepEvaluation.from_dict(data)



                    return componentsschemas_ofrep_bulk_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_ofrep_bulk_item_type_1 = OfrepFailure.from_dict(data)



                return componentsschemas_ofrep_bulk_item_type_1

            flags_item = _parse_flags_item(flags_item_data)

            flags.append(flags_item)


        ofrep_bulk_evaluation = cls(
            flags=flags,
        )


        ofrep_bulk_evaluation.additional_properties = d
        return ofrep_bulk_evaluation

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
