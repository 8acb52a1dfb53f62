from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="FlagOverride")



@_attrs_define
class FlagOverride:
    """ A tenant's override of a flag, as set or cleared.

        Attributes:
            tenant_id (UUID): The tenant.
            key (str): The flag's key.
            override (bool | None | Unset): The override; null once cleared (the plan's default, the rollout or the flag's
                default decides again).
     """

    tenant_id: UUID
    key: str
    override: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        tenant_id = str(self.tenant_id)

        key = self.key

        override: bool | None | Unset
        if isinstance(self.override, Unset):
            override = UNSET
        else:
            override = self.override


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "tenant_id": tenant_id,
            "key": key,
        })
        if override is not UNSET:
            field_dict["override"] = override

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant_id = UUID(d.pop("tenant_id"))




        key = d.pop("key")

        def _parse_override(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        override = _parse_override(d.pop("override", UNSET))


        flag_override = cls(
            tenant_id=tenant_id,
            key=key,
            override=override,
        )


        flag_override.additional_properties = d
        return flag_override

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
