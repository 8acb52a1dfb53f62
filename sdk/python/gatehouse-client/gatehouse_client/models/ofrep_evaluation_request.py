from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.ofrep_evaluation_context import OfrepEvaluationContext





T = TypeVar("T", bound="OfrepEvaluationRequest")



@_attrs_define
class OfrepEvaluationRequest:
    """ An evaluation request (OFREP). An empty body is the same as no context.

        Attributes:
            context (None | OfrepEvaluationContext | Unset):
     """

    context: None | OfrepEvaluationContext | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ofrep_evaluation_context import OfrepEvaluationContext # noqa: PLC0415
        context: dict[str, Any] | None | Unset
        if isinstance(self.context, Unset):
            context = UNSET
        elif isinstance(self.context, OfrepEvaluationContext):
            context = self.context.to_dict()
        else:
            context = self.context


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if context is not UNSET:
            field_dict["context"] = context

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ofrep_evaluation_context import OfrepEvaluationContext # noqa: PLC0415
        d = dict(src_dict)
        def _parse_context(data: object) -> None | OfrepEvaluationContext | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                context_type_0 = OfrepEvaluationContext.from_dict(data)



                return context_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OfrepEvaluationContext | Unset, data)

        context = _parse_context(d.pop("context", UNSET))


        ofrep_evaluation_request = cls(
            context=context,
        )


        ofrep_evaluation_request.additional_properties = d
        return ofrep_evaluation_request

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
