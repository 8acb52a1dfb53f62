from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.plan import Plan
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="ProvisionTenant")



@_attrs_define
class ProvisionTenant:
    """ A new tenant and its owner. Strings are trimmed and a blank or `null` field counts as
    absent; `domain` and `plan` are case-insensitive.

        Attributes:
            name (str): A display name (tenant or user): 1-200 characters after trimming, no control characters.
            domain (str): A tenant's unique slug: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$` (SPEC §2).
                Upper case input is accepted and lowered.
            owner_email (str): An email address (RFC 5322 addr-spec as checked by `email_address`), at most 254
                characters. The case is kept; comparisons are case-insensitive in the database.
            plan (None | Plan | Unset):
            applications (list[UUID] | Unset): Applications to enable for the tenant.
     """

    name: str
    domain: str
    owner_email: str
    plan: None | Plan | Unset = UNSET
    applications: list[UUID] | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        domain = self.domain

        owner_email = self.owner_email

        plan: None | str | Unset
        if isinstance(self.plan, Unset):
            plan = UNSET
        elif isinstance(self.plan, Plan):
            plan = self.plan.value
        else:
            plan = self.plan

        applications: list[str] | Unset = UNSET
        if not isinstance(self.applications, Unset):
            applications = []
            for applications_item_data in self.applications:
                applications_item = str(applications_item_data)
                applications.append(applications_item)




        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
            "domain": domain,
            "owner_email": owner_email,
        })
        if plan is not UNSET:
            field_dict["plan"] = plan
        if applications is not UNSET:
            field_dict["applications"] = applications

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        domain = d.pop("domain")

        owner_email = d.pop("owner_email")

        def _parse_plan(data: object) -> None | Plan | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                plan_type_0 = Plan(data)



                return plan_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Plan | Unset, data)

        plan = _parse_plan(d.pop("plan", UNSET))


        _applications = d.pop("applications", UNSET)
        applications: list[UUID] | Unset = UNSET
        if _applications is not UNSET:
            applications = []
            for applications_item_data in _applications:
                applications_item = UUID(applications_item_data)



                applications.append(applications_item)


        provision_tenant = cls(
            name=name,
            domain=domain,
            owner_email=owner_email,
            plan=plan,
            applications=applications,
        )

        return provision_tenant

