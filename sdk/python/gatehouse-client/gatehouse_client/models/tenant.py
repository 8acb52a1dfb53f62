from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.plan import Plan
from ..models.tenant_status import TenantStatus
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Tenant")



@_attrs_define
class Tenant:
    """ A tenant: one customer organisation, with its people, settings and plan.

        Attributes:
            id (UUID):
            name (str): The display name.
            domain (str): A tenant's unique slug: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$` (SPEC §2).
                Upper case input is accepted and lowered.
            plan (Plan):
            status (TenantStatus):
            created_at (datetime.datetime):
     """

    id: UUID
    name: str
    domain: str
    plan: Plan
    status: TenantStatus
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        domain = self.domain

        plan = self.plan.value

        status = self.status.value

        created_at = self.created_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "name": name,
            "domain": domain,
            "plan": plan,
            "status": status,
            "created_at": created_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))




        name = d.pop("name")

        domain = d.pop("domain")

        plan = Plan(d.pop("plan"))




        status = TenantStatus(d.pop("status"))




        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        tenant = cls(
            id=id,
            name=name,
            domain=domain,
            plan=plan,
            status=status,
            created_at=created_at,
        )


        tenant.additional_properties = d
        return tenant

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
