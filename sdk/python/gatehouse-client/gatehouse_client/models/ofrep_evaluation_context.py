from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="OfrepEvaluationContext")



@_attrs_define
class OfrepEvaluationContext:
    """ The evaluation context. Attributes other than these are accepted and ignored.

        Attributes:
            targeting_key (None | str | Unset): Whom percentage rollouts are sticky for (a user's id); the tenant when
                absent.
                A non-empty string of at most 200 characters.
            tenant (None | str | Unset): The tenant's domain. Required for a token that acts for several tenants; a token
                of one tenant may name only its own.
     """

    targeting_key: None | str | Unset = UNSET
    tenant: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        targeting_key: None | str | Unset
        if isinstance(self.targeting_key, Unset):
            targeting_key = UNSET
        else:
            targeting_key = self.targeting_key

        tenant: None | str | Unset
        if isinstance(self.tenant, Unset):
            tenant = UNSET
        else:
            tenant = self.tenant


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if targeting_key is not UNSET:
            field_dict["targetingKey"] = targeting_key
        if tenant is not UNSET:
            field_dict["tenant"] = tenant

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_targeting_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        targeting_key = _parse_targeting_key(d.pop("targetingKey", UNSET))


        def _parse_tenant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant = _parse_tenant(d.pop("tenant", UNSET))


        ofrep_evaluation_context = cls(
            targeting_key=targeting_key,
            tenant=tenant,
        )


        ofrep_evaluation_context.additional_properties = d
        return ofrep_evaluation_context

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
