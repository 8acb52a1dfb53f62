from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.cloud_event_specversion import CloudEventSpecversion
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.cloud_event_data_type_0 import CloudEventDataType0





T = TypeVar("T", bound="CloudEvent")



@_attrs_define
class CloudEvent:
    """ A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients send it.
    Extension attributes (names of lower-case letters and digits) are taken and not kept.

        Attributes:
            specversion (CloudEventSpecversion): The CloudEvents version.
            id (str): With `source`, the event's idempotency key (stored as `source#id`): the same pair
                with the same content is stored once, with other content refused.
            source (str): The sender; see `id`.
            type_ (str): The event type, dotted lowercase: `tokens.used`.
            subject (None | str | Unset): The tenant's domain, one of those the application is enabled for; without it, the
                tenant the token is bound to.
            time (datetime.datetime | None | Unset): When it happened (RFC 3339, any offset), within the backdating window;
                without it,
                when it was received (and a re-send is then judged without the time).
            datacontenttype (None | str | Unset): `application/json` when given.
            dataschema (None | str | Unset): Taken and not kept.
            data (CloudEventDataType0 | None | Unset):
     """

    specversion: CloudEventSpecversion
    id: str
    source: str
    type_: str
    subject: None | str | Unset = UNSET
    time: datetime.datetime | None | Unset = UNSET
    datacontenttype: None | str | Unset = UNSET
    dataschema: None | str | Unset = UNSET
    data: CloudEventDataType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.cloud_event_data_type_0 import CloudEventDataType0 # noqa: PLC0415
        specversion = self.specversion.value

        id = self.id

        source = self.source

        type_ = self.type_

        subject: None | str | Unset
        if isinstance(self.subject, Unset):
            subject = UNSET
        else:
            subject = self.subject

        time: None | str | Unset
        if isinstance(self.time, Unset):
            time = UNSET
        elif isinstance(self.time, datetime.datetime):
            time = self.time.isoformat()
        else:
            time = self.time

        datacontenttype: None | str | Unset
        if isinstance(self.datacontenttype, Unset):
            datacontenttype = UNSET
        else:
            datacontenttype = self.datacontenttype

        dataschema: None | str | Unset
        if isinstance(self.dataschema, Unset):
            dataschema = UNSET
        else:
            dataschema = self.dataschema

        data: dict[str, Any] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, CloudEventDataType0):
            data = self.data.to_dict()
        else:
            data = self.data


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "specversion": specversion,
            "id": id,
            "source": source,
            "type": type_,
        })
        if subject is not UNSET:
            field_dict["subject"] = subject
        if time is not UNSET:
            field_dict["time"] = time
        if datacontenttype is not UNSET:
            field_dict["datacontenttype"] = datacontenttype
        if dataschema is not UNSET:
            field_dict["dataschema"] = dataschema
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cloud_event_data_type_0 import CloudEventDataType0 # noqa: PLC0415
        d = dict(src_dict)
        specversion = CloudEventSpecversion(d.pop("specversion"))




        id = d.pop("id")

        source = d.pop("source")

        type_ = d.pop("type")

        def _parse_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject = _parse_subject(d.pop("subject", UNSET))


        def _parse_time(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                time_type_0 = datetime.datetime.fromisoformat(data)



                return time_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        time = _parse_time(d.pop("time", UNSET))


        def _parse_datacontenttype(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        datacontenttype = _parse_datacontenttype(d.pop("datacontenttype", UNSET))


        def _parse_dataschema(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dataschema = _parse_dataschema(d.pop("dataschema", UNSET))


        def _parse_data(data: object) -> CloudEventDataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = CloudEventDataType0.from_dict(data)



                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CloudEventDataType0 | None | Unset, data)

        data = _parse_data(d.pop("data", UNSET))


        cloud_event = cls(
            specversion=specversion,
            id=id,
            source=source,
            type_=type_,
            subject=subject,
            time=time,
            datacontenttype=datacontenttype,
            dataschema=dataschema,
            data=data,
        )


        cloud_event.additional_properties = d
        return cloud_event

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
