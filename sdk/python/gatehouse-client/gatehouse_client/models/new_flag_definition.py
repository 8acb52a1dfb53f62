from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="NewFlagDefinition")



@_attrs_define
class NewFlagDefinition:
    """ A new flag definition.

        Attributes:
            key (str): A feature flag key: `^[a-z][a-z0-9_]{0,63}$` (SPEC §6).
            description (None | str | Unset): What the flag is for (empty when absent).
            default_value (bool | None | Unset): The value where no override, plan default or rollout decides (false when
                absent).
            rollout_percentage (int | None | Unset): A sticky percentage rollout: the share of targeting keys (users, else
                tenants) that
                get `true` where no override or plan default decides. Absent or null: none.
     """

    key: str
    description: None | str | Unset = UNSET
    default_value: bool | None | Unset = UNSET
    rollout_percentage: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
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
            "key": key,
        })
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
        key = d.pop("key")

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


        new_flag_definition = cls(
            key=key,
            description=description,
            default_value=default_value,
            rollout_percentage=rollout_percentage,
        )

        return new_flag_definition

