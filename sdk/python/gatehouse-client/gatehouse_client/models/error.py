from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_code import ErrorCode
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.field_error import FieldError





T = TypeVar("T", bound="Error")



@_attrs_define
class Error:
    """ An error (SPEC §9): a code, a message for people, the request id (also in
    `X-Request-Id`), and one detail per violated field — every violation, not the first.

        Attributes:
            code (ErrorCode): The error codes of SPEC §9, by status: 401 `ERR_AUTH`, 403 `ERR_PERMISSION_DENIED`,
                404 `ERR_NOT_FOUND`, 405 `ERR_METHOD_NOT_ALLOWED`, 409 `ERR_CONFLICT`, 410 `ERR_GONE`,
                413 `ERR_PAYLOAD_TOO_LARGE`, 422 `ERR_VALIDATION`, 423 `ERR_RESOURCE_LOCKED`, 429
                `ERR_RATE_LIMIT`, 500 `ERR_INTERNAL`, 503 `ERR_UNAVAILABLE`.
            message (str):
            details (list[FieldError]):
            request_id (None | str | Unset):
     """

    code: ErrorCode
    message: str
    details: list[FieldError]
    request_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.field_error import FieldError # noqa: PLC0415
        code = self.code.value

        message = self.message

        details = []
        for details_item_data in self.details:
            details_item = details_item_data.to_dict()
            details.append(details_item)



        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "code": code,
            "message": message,
            "details": details,
        })
        if request_id is not UNSET:
            field_dict["request_id"] = request_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_error import FieldError # noqa: PLC0415
        d = dict(src_dict)
        code = ErrorCode(d.pop("code"))




        message = d.pop("message")

        details = []
        _details = d.pop("details")
        for details_item_data in (_details):
            details_item = FieldError.from_dict(details_item_data)



            details.append(details_item)


        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))


        error = cls(
            code=code,
            message=message,
            details=details,
            request_id=request_id,
        )


        error.additional_properties = d
        return error

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
