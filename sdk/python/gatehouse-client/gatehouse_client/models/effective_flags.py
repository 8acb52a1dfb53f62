from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.plan import Plan
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.effective_flag import EffectiveFlag
  from ..models.effective_flags_flags import EffectiveFlagsFlags





T = TypeVar("T", bound="EffectiveFlags")



@_attrs_define
class EffectiveFlags:
    """ A tenant's effective feature flags (the Flag API's answer).

        Attributes:
            tenant_id (UUID): The tenant.
            plan (Plan):
            flags (EffectiveFlagsFlags): Every flag's value, by key.
            details (list[EffectiveFlag]): Every flag's value with the rule that decided it, ordered by key.
     """

    tenant_id: UUID
    plan: Plan
    flags: EffectiveFlagsFlags
    details: list[EffectiveFlag]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.effective_flag import EffectiveFlag # noqa: PLC0415
        from ..models.effective_flags_flags import EffectiveFlagsFlags # noqa: PLC0415
        tenant_id = str(self.tenant_id)

        plan = self.plan.value

        flags = self.flags.to_dict()

        details = []
        for details_item_data in self.details:
            details_item = details_item_data.to_dict()
            details.append(details_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "tenant_id": tenant_id,
            "plan": plan,
            "flags": flags,
            "details": details,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.effective_flag import EffectiveFlag # noqa: PLC0415
        from ..models.effective_flags_flags import EffectiveFlagsFlags # noqa: PLC0415
        d = dict(src_dict)
        tenant_id = UUID(d.pop("tenant_id"))




        plan = Plan(d.pop("plan"))




        flags = EffectiveFlagsFlags.from_dict(d.pop("flags"))




        details = []
        _details = d.pop("details")
        for details_item_data in (_details):
            details_item = EffectiveFlag.from_dict(details_item_data)



            details.append(details_item)


        effective_flags = cls(
            tenant_id=tenant_id,
            plan=plan,
            flags=flags,
            details=details,
        )


        effective_flags.additional_properties = d
        return effective_flags

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
