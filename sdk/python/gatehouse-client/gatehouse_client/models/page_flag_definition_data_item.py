from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.page_flag_definition_data_item_plan_defaults import PageFlagDefinitionDataItemPlanDefaults





T = TypeVar("T", bound="PageFlagDefinitionDataItem")



@_attrs_define
class PageFlagDefinitionDataItem:
    """ A feature flag's definition: its default, its rollout and the plans' defaults.

        Attributes:
            key (str): The flag's key (`^[a-z][a-z0-9_]{0,63}$`); it never changes.
            description (str): What the flag is for.
            default_value (bool): The value where no override, plan default or rollout decides.
            plan_defaults (PageFlagDefinitionDataItemPlanDefaults): Plan → value, for the plans that set one.
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            rollout_percentage (int | None | Unset): A sticky percentage rollout (0-100): the share of targeting keys
                (users, else
                tenants) that get `true` where no override or plan default decides. Null: none.
            last_evaluated_at (datetime.datetime | None | Unset): When a server last served the flag (recorded once a
                minute); null if never.
     """

    key: str
    description: str
    default_value: bool
    plan_defaults: PageFlagDefinitionDataItemPlanDefaults
    created_at: datetime.datetime
    updated_at: datetime.datetime
    rollout_percentage: int | None | Unset = UNSET
    last_evaluated_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.page_flag_definition_data_item_plan_defaults import PageFlagDefinitionDataItemPlanDefaults # noqa: PLC0415
        key = self.key

        description = self.description

        default_value = self.default_value

        plan_defaults = self.plan_defaults.to_dict()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        rollout_percentage: int | None | Unset
        if isinstance(self.rollout_percentage, Unset):
            rollout_percentage = UNSET
        else:
            rollout_percentage = self.rollout_percentage

        last_evaluated_at: None | str | Unset
        if isinstance(self.last_evaluated_at, Unset):
            last_evaluated_at = UNSET
        elif isinstance(self.last_evaluated_at, datetime.datetime):
            last_evaluated_at = self.last_evaluated_at.isoformat()
        else:
            last_evaluated_at = self.last_evaluated_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "description": description,
            "default_value": default_value,
            "plan_defaults": plan_defaults,
            "created_at": created_at,
            "updated_at": updated_at,
        })
        if rollout_percentage is not UNSET:
            field_dict["rollout_percentage"] = rollout_percentage
        if last_evaluated_at is not UNSET:
            field_dict["last_evaluated_at"] = last_evaluated_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.page_flag_definition_data_item_plan_defaults import PageFlagDefinitionDataItemPlanDefaults # noqa: PLC0415
        d = dict(src_dict)
        key = d.pop("key")

        description = d.pop("description")

        default_value = d.pop("default_value")

        plan_defaults = PageFlagDefinitionDataItemPlanDefaults.from_dict(d.pop("plan_defaults"))




        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_rollout_percentage(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rollout_percentage = _parse_rollout_percentage(d.pop("rollout_percentage", UNSET))


        def _parse_last_evaluated_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_evaluated_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_evaluated_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_evaluated_at = _parse_last_evaluated_at(d.pop("last_evaluated_at", UNSET))


        page_flag_definition_data_item = cls(
            key=key,
            description=description,
            default_value=default_value,
            plan_defaults=plan_defaults,
            created_at=created_at,
            updated_at=updated_at,
            rollout_percentage=rollout_percentage,
            last_evaluated_at=last_evaluated_at,
        )


        page_flag_definition_data_item.additional_properties = d
        return page_flag_definition_data_item

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
