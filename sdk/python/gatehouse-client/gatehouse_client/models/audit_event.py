from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.audit_event_outcome import AuditEventOutcome
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.audit_event_actor import AuditEventActor
  from ..models.audit_event_metadata_type_0 import AuditEventMetadataType0
  from ..models.audit_event_resource import AuditEventResource





T = TypeVar("T", bound="AuditEvent")



@_attrs_define
class AuditEvent:
    """ One audit event, as an application reports it.

        Attributes:
            id (str): The application's own id for the event: an id sent again is a `duplicate`, stored
                once.
            occurred_at (datetime.datetime): When it happened: ISO 8601 in UTC, ending in `Z` (`2026-12-06T09:30:00Z`); at
                most
                5 minutes ahead of the server's clock.
            actor (AuditEventActor): Who acted, in the application's terms.
            action (str): What happened, dotted lowercase: `document.download`.
            resource (AuditEventResource): What was acted on, in the application's terms.
            outcome (AuditEventOutcome): Whether the action succeeded.
            ip_address (str): The IPv4 or IPv6 address the action came from.
            user_agent (None | str | Unset): The client's user agent, as the application saw it.
            metadata (AuditEventMetadataType0 | None | Unset): The application's own details: at most 20 keys of 1 to 500
                characters; values are strings of at most 500 characters, numbers, booleans or null. A key that looks like a
                secret (password, secret, token, seed, cookie, session_id) keeps its name and loses its value.
            tenant (None | str | Unset): The tenant's domain, one of those the application is enabled for; without it, the
                tenant the token is bound to.
     """

    id: str
    occurred_at: datetime.datetime
    actor: AuditEventActor
    action: str
    resource: AuditEventResource
    outcome: AuditEventOutcome
    ip_address: str
    user_agent: None | str | Unset = UNSET
    metadata: AuditEventMetadataType0 | None | Unset = UNSET
    tenant: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_event_actor import AuditEventActor # noqa: PLC0415
        from ..models.audit_event_metadata_type_0 import AuditEventMetadataType0 # noqa: PLC0415
        from ..models.audit_event_resource import AuditEventResource # noqa: PLC0415
        id = self.id

        occurred_at = self.occurred_at.isoformat()

        actor = self.actor.to_dict()

        action = self.action

        resource = self.resource.to_dict()

        outcome = self.outcome.value

        ip_address = self.ip_address

        user_agent: None | str | Unset
        if isinstance(self.user_agent, Unset):
            user_agent = UNSET
        else:
            user_agent = self.user_agent

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, AuditEventMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        tenant: None | str | Unset
        if isinstance(self.tenant, Unset):
            tenant = UNSET
        else:
            tenant = self.tenant


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "id": id,
            "occurred_at": occurred_at,
            "actor": actor,
            "action": action,
            "resource": resource,
            "outcome": outcome,
            "ip_address": ip_address,
        })
        if user_agent is not UNSET:
            field_dict["user_agent"] = user_agent
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if tenant is not UNSET:
            field_dict["tenant"] = tenant

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_actor import AuditEventActor # noqa: PLC0415
        from ..models.audit_event_metadata_type_0 import AuditEventMetadataType0 # noqa: PLC0415
        from ..models.audit_event_resource import AuditEventResource # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))




        actor = AuditEventActor.from_dict(d.pop("actor"))




        action = d.pop("action")

        resource = AuditEventResource.from_dict(d.pop("resource"))




        outcome = AuditEventOutcome(d.pop("outcome"))




        ip_address = d.pop("ip_address")

        def _parse_user_agent(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_agent = _parse_user_agent(d.pop("user_agent", UNSET))


        def _parse_metadata(data: object) -> AuditEventMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = AuditEventMetadataType0.from_dict(data)



                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AuditEventMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))


        def _parse_tenant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant = _parse_tenant(d.pop("tenant", UNSET))


        audit_event = cls(
            id=id,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            resource=resource,
            outcome=outcome,
            ip_address=ip_address,
            user_agent=user_agent,
            metadata=metadata,
            tenant=tenant,
        )

        return audit_event

