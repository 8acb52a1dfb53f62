from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ofrep_reason import OfrepReason
from ..models.ofrep_variant import OfrepVariant
from typing import cast

if TYPE_CHECKING:
  from ..models.ofrep_metadata import OfrepMetadata





T = TypeVar("T", bound="OfrepEvaluation")



@_attrs_define
class OfrepEvaluation:
    """ One flag's evaluation (OFREP).

        Attributes:
            key (str): The flag's key.
            value (bool): The flag's value (every flag is a boolean).
            reason (OfrepReason): Why a flag has its value (OFREP's reasons).
            variant (OfrepVariant): A boolean flag's variant.
            metadata (OfrepMetadata): Where the value comes from.
     """

    key: str
    value: bool
    reason: OfrepReason
    variant: OfrepVariant
    metadata: OfrepMetadata
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ofrep_metadata import OfrepMetadata # noqa: PLC0415
        key = self.key

        value = self.value

        reason = self.reason.value

        variant = self.variant.value

        metadata = self.metadata.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "value": value,
            "reason": reason,
            "variant": variant,
            "metadata": metadata,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ofrep_metadata import OfrepMetadata # noqa: PLC0415
        d = dict(src_dict)
        key = d.pop("key")

        value = d.pop("value")

        reason = OfrepReason(d.pop("reason"))




        variant = OfrepVariant(d.pop("variant"))




        metadata = OfrepMetadata.from_dict(d.pop("metadata"))




        ofrep_evaluation = cls(
            key=key,
            value=value,
            reason=reason,
            variant=variant,
            metadata=metadata,
        )


        ofrep_evaluation.additional_properties = d
        return ofrep_evaluation

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
