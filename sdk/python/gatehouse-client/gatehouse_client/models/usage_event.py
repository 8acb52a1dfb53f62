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
  from ..models.usage_event_metadata_type_0 import UsageEventMetadataType0





T = TypeVar("T", bound="UsageEvent")



@_attrs_define
class UsageEvent:
    """ One usage event, as an application reports it.

        Attributes:
            id (str): The application's id for the event: the same id with the same content is a
                `duplicate` (stored once), with other content a `conflict` (refused). Kept as long
                as the event.
            timestamp (datetime.datetime): When it happened: ISO 8601 in UTC, ending in `Z`; at most 35 days old and 5
                minutes
                ahead by default (`GATEHOUSE_BILLING_MAX_AGE_DAYS`,
                `GATEHOUSE_BILLING_MAX_AHEAD_SECS`).
            event_type (str): What was used, dotted lowercase: `api.call`.
            quantity (int): How much: a whole number from 1 to 2^53 − 1.
            tenant (None | str | Unset): The tenant's domain, one of those the application is enabled for; without it, the
                tenant the token is bound to.
            metadata (None | Unset | UsageEventMetadataType0): The application's own details: at most 20 keys of 1 to 500
                characters; values are strings of at most 500 characters, numbers, booleans or null. A key that looks like a
                secret (password, secret, token, seed, cookie, session_id) keeps its name and loses its value.
     """

    id: str
    timestamp: datetime.datetime
    event_type: str
    quantity: int
    tenant: None | str | Unset = UNSET
    metadata: None | Unset | UsageEventMetadataType0 = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_event_metadata_type_0 import UsageEventMetadataType0 # noqa: PLC0415
        id = self.id

        timestamp = self.timestamp.isoformat()

        event_type = self.event_type

        quantity = self.quantity

        tenant: None | str | Unset
        if isinstance(self.tenant, Unset):
            tenant = UNSET
        else:
            tenant = self.tenant

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, UsageEventMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "id": id,
            "timestamp": timestamp,
            "event_type": event_type,
            "quantity": quantity,
        })
        if tenant is not UNSET:
            field_dict["tenant"] = tenant
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_event_metadata_type_0 import UsageEventMetadataType0 # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))




        event_type = d.pop("event_type")

        quantity = d.pop("quantity")

        def _parse_tenant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant = _parse_tenant(d.pop("tenant", UNSET))


        def _parse_metadata(data: object) -> None | Unset | UsageEventMetadataType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = UsageEventMetadataType0.from_dict(data)



                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UsageEventMetadataType0, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))


        usage_event = cls(
            id=id,
            timestamp=timestamp,
            event_type=event_type,
            quantity=quantity,
            tenant=tenant,
            metadata=metadata,
        )

        return usage_event

