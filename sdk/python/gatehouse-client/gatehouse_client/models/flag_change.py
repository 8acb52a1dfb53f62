from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="FlagChange")



@_attrs_define
class FlagChange:
    """ One change in a flag's history (from the audit trail).

        Attributes:
            action (str): What changed: `flag.create`, `flag.update`, `flag.plan_default.set`,
                `flag.override.set` or `flag.override.clear`.
            old (Any): The value before: a boolean or null for a plan default or an override; for a
                definition, its `default_value`, `rollout_percentage` and `description`.
            new (Any): The value after, in the same form as `old`.
            occurred_at (datetime.datetime):
            tenant_id (None | Unset | UUID): The tenant, for an override; null for a change that concerns every tenant.
            actor_id (None | Unset | UUID): Who made the change; null for the system.
            actor_email (None | str | Unset): The email address of who made the change.
            plan (None | str | Unset): The plan, for a plan default.
     """

    action: str
    old: Any
    new: Any
    occurred_at: datetime.datetime
    tenant_id: None | Unset | UUID = UNSET
    actor_id: None | Unset | UUID = UNSET
    actor_email: None | str | Unset = UNSET
    plan: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        action = self.action

        old = self.old

        new = self.new

        occurred_at = self.occurred_at.isoformat()

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        elif isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        actor_id: None | str | Unset
        if isinstance(self.actor_id, Unset):
            actor_id = UNSET
        elif isinstance(self.actor_id, UUID):
            actor_id = str(self.actor_id)
        else:
            actor_id = self.actor_id

        actor_email: None | str | Unset
        if isinstance(self.actor_email, Unset):
            actor_email = UNSET
        else:
            actor_email = self.actor_email

        plan: None | str | Unset
        if isinstance(self.plan, Unset):
            plan = UNSET
        else:
            plan = self.plan


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "action": action,
            "old": old,
            "new": new,
            "occurred_at": occurred_at,
        })
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if actor_id is not UNSET:
            field_dict["actor_id"] = actor_id
        if actor_email is not UNSET:
            field_dict["actor_email"] = actor_email
        if plan is not UNSET:
            field_dict["plan"] = plan

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = d.pop("action")

        old = d.pop("old")

        new = d.pop("new")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))




        def _parse_tenant_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tenant_id_type_0 = UUID(data)



                return tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))


        def _parse_actor_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_id_type_0 = UUID(data)



                return actor_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        actor_id = _parse_actor_id(d.pop("actor_id", UNSET))


        def _parse_actor_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        actor_email = _parse_actor_email(d.pop("actor_email", UNSET))


        def _parse_plan(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        plan = _parse_plan(d.pop("plan", UNSET))


        flag_change = cls(
            action=action,
            old=old,
            new=new,
            occurred_at=occurred_at,
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_email=actor_email,
            plan=plan,
        )


        flag_change.additional_properties = d
        return flag_change

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
