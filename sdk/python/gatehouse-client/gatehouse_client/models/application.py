from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Application")



@_attrs_define
class Application:
    """ A managed application: the OAuth client its keys sign in as, the tenants it may act for,
    and where people may be sent back after signing in or out.

        Attributes:
            id (UUID):
            name (str):
            environment (str): `development`, `staging` or `production`.
            status (str): `active`, or `disabled`: a disabled application's keys and tokens are refused.
            redirect_uris (list[str]): Where the authorization code flow may send people back (compared exactly).
            post_logout_redirect_uris (list[str]): Where signing out may send people back (compared exactly).
            grant_types (list[str]): Of `authorization_code`, `client_credentials` and `refresh_token`.
            tenants (list[str]): Domains of the tenants the application may act for.
            all_tenants (bool): Acts for every tenant (platform tooling); otherwise only for `tenants`, and with
                none for nobody.
            active_keys (int): Keys neither revoked nor expired.
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
     """

    id: UUID
    name: str
    environment: str
    status: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    tenants: list[str]
    all_tenants: bool
    active_keys: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        environment = self.environment

        status = self.status

        redirect_uris = self.redirect_uris



        post_logout_redirect_uris = self.post_logout_redirect_uris



        grant_types = self.grant_types



        tenants = self.tenants



        all_tenants = self.all_tenants

        active_keys = self.active_keys

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "name": name,
            "environment": environment,
            "status": status,
            "redirect_uris": redirect_uris,
            "post_logout_redirect_uris": post_logout_redirect_uris,
            "grant_types": grant_types,
            "tenants": tenants,
            "all_tenants": all_tenants,
            "active_keys": active_keys,
            "created_at": created_at,
            "updated_at": updated_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))




        name = d.pop("name")

        environment = d.pop("environment")

        status = d.pop("status")

        redirect_uris = cast(list[str], d.pop("redirect_uris"))


        post_logout_redirect_uris = cast(list[str], d.pop("post_logout_redirect_uris"))


        grant_types = cast(list[str], d.pop("grant_types"))


        tenants = cast(list[str], d.pop("tenants"))


        all_tenants = d.pop("all_tenants")

        active_keys = d.pop("active_keys")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        application = cls(
            id=id,
            name=name,
            environment=environment,
            status=status,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            grant_types=grant_types,
            tenants=tenants,
            all_tenants=all_tenants,
            active_keys=active_keys,
            created_at=created_at,
            updated_at=updated_at,
        )


        application.additional_properties = d
        return application

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
