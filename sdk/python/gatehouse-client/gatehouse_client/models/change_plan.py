from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.plan import Plan






T = TypeVar("T", bound="ChangePlan")



@_attrs_define
class ChangePlan:
    """ A tenant's new plan (case-insensitive).

        Attributes:
            plan (Plan):
     """

    plan: Plan





    def to_dict(self) -> dict[str, Any]:
        plan = self.plan.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "plan": plan,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        plan = Plan(d.pop("plan"))




        change_plan = cls(
            plan=plan,
        )

        return change_plan

