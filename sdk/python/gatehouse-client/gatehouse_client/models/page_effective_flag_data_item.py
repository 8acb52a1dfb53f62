from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flag_source import FlagSource






T = TypeVar("T", bound="PageEffectiveFlagDataItem")



@_attrs_define
class PageEffectiveFlagDataItem:
    """ A flag's value for one tenant (and targeting key), with where it comes from.

        Attributes:
            key (str): The flag's key.
            value (bool): The flag's value.
            source (FlagSource): Which rule decided a flag's value: a tenant `override`, the `plan`'s default, a
                percentage `rollout`, or the flag's `default`.
     """

    key: str
    value: bool
    source: FlagSource
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        value = self.value

        source = self.source.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "value": value,
            "source": source,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        value = d.pop("value")

        source = FlagSource(d.pop("source"))




        page_effective_flag_data_item = cls(
            key=key,
            value=value,
            source=source,
        )


        page_effective_flag_data_item.additional_properties = d
        return page_effective_flag_data_item

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
