from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="FlagDefinitionChanges")



@_attrs_define
class FlagDefinitionChanges:
    """ Changes to a flag definition: the fields given change, the others stay.

        Attributes:
            key (None | str | Unset): A flag's key cannot change: any value here is refused.
            description (None | str | Unset): What the flag is for.
            default_value (bool | None | Unset): The value where no override, plan default or rollout decides.
            rollout_percentage (int | None | Unset): A sticky percentage rollout (0-100); null removes it.
     """

    key: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    default_value: bool | None | Unset = UNSET
    rollout_percentage: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        key: None | str | Unset
        if isinstance(self.key, Unset):
            key = UNSET
        else:
            key = self.key

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        default_value: bool | None | Unset
        if isinstance(self.default_value, Unset):
            default_value = UNSET
        else:
            default_value = self.default_value

        rollout_percentage: int | None | Unset
        if isinstance(self.rollout_percentage, Unset):
            rollout_percentage = UNSET
        else:
            rollout_percentage = self.rollout_percentage


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if key is not UNSET:
            field_dict["key"] = key
        if description is not UNSET:
            field_dict["description"] = description
        if default_value is not UNSET:
            field_dict["default_value"] = default_value
        if rollout_percentage is not UNSET:
            field_dict["rollout_percentage"] = rollout_percentage

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key = _parse_key(d.pop("key", UNSET))


        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))


        def _parse_default_value(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        default_value = _parse_default_value(d.pop("default_value", UNSET))


        def _parse_rollout_percentage(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rollout_percentage = _parse_rollout_percentage(d.pop("rollout_percentage", UNSET))


        flag_definition_changes = cls(
            key=key,
            description=description,
            default_value=default_value,
            rollout_percentage=rollout_percentage,
        )

        return flag_definition_changes

