from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.app_environment import AppEnvironment
from ..models.app_grant_type import AppGrantType
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="RegisterApplication")



@_attrs_define
class RegisterApplication:
    """ A new application. Strings are trimmed and a blank or `null` field counts as absent;
    `environment`, `grant_types` and `tenants` are case-insensitive.

        Attributes:
            name (str): A display name (tenant or user): 1-200 characters after trimming, no control characters.
            environment (AppEnvironment | None | Unset):
            redirect_uris (list[str] | None | Unset): Where the authorization code flow may send people back: absolute
                `https` URLs
                (plain `http` only to localhost, 127.0.0.1 or [::1]) without a fragment.
            post_logout_redirect_uris (list[str] | None | Unset): Where signing out may send people back; the same rules as
                `redirect_uris`.
            grant_types (list[AppGrantType] | None | Unset): `client_credentials` when absent.
            tenants (list[str] | None | Unset): Domains of the tenants it may act for.
            all_tenants (bool | None | Unset): Acts for every tenant (platform tooling); `false` when absent.
     """

    name: str
    environment: AppEnvironment | None | Unset = UNSET
    redirect_uris: list[str] | None | Unset = UNSET
    post_logout_redirect_uris: list[str] | None | Unset = UNSET
    grant_types: list[AppGrantType] | None | Unset = UNSET
    tenants: list[str] | None | Unset = UNSET
    all_tenants: bool | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        environment: None | str | Unset
        if isinstance(self.environment, Unset):
            environment = UNSET
        elif isinstance(self.environment, AppEnvironment):
            environment = self.environment.value
        else:
            environment = self.environment

        redirect_uris: list[str] | None | Unset
        if isinstance(self.redirect_uris, Unset):
            redirect_uris = UNSET
        elif isinstance(self.redirect_uris, list):
            redirect_uris = self.redirect_uris


        else:
            redirect_uris = self.redirect_uris

        post_logout_redirect_uris: list[str] | None | Unset
        if isinstance(self.post_logout_redirect_uris, Unset):
            post_logout_redirect_uris = UNSET
        elif isinstance(self.post_logout_redirect_uris, list):
            post_logout_redirect_uris = self.post_logout_redirect_uris


        else:
            post_logout_redirect_uris = self.post_logout_redirect_uris

        grant_types: list[str] | None | Unset
        if isinstance(self.grant_types, Unset):
            grant_types = UNSET
        elif isinstance(self.grant_types, list):
            grant_types = []
            for grant_types_type_0_item_data in self.grant_types:
                grant_types_type_0_item = grant_types_type_0_item_data.value
                grant_types.append(grant_types_type_0_item)


        else:
            grant_types = self.grant_types

        tenants: list[str] | None | Unset
        if isinstance(self.tenants, Unset):
            tenants = UNSET
        elif isinstance(self.tenants, list):
            tenants = self.tenants


        else:
            tenants = self.tenants

        all_tenants: bool | None | Unset
        if isinstance(self.all_tenants, Unset):
            all_tenants = UNSET
        else:
            all_tenants = self.all_tenants


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
        })
        if environment is not UNSET:
            field_dict["environment"] = environment
        if redirect_uris is not UNSET:
            field_dict["redirect_uris"] = redirect_uris
        if post_logout_redirect_uris is not UNSET:
            field_dict["post_logout_redirect_uris"] = post_logout_redirect_uris
        if grant_types is not UNSET:
            field_dict["grant_types"] = grant_types
        if tenants is not UNSET:
            field_dict["tenants"] = tenants
        if all_tenants is not UNSET:
            field_dict["all_tenants"] = all_tenants

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_environment(data: object) -> AppEnvironment | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                environment_type_0 = AppEnvironment(data)



                return environment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AppEnvironment | None | Unset, data)

        environment = _parse_environment(d.pop("environment", UNSET))


        def _parse_redirect_uris(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                redirect_uris_type_0 = cast(list[str], data)

                return redirect_uris_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        redirect_uris = _parse_redirect_uris(d.pop("redirect_uris", UNSET))


        def _parse_post_logout_redirect_uris(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                post_logout_redirect_uris_type_0 = cast(list[str], data)

                return post_logout_redirect_uris_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        post_logout_redirect_uris = _parse_post_logout_redirect_uris(d.pop("post_logout_redirect_uris", UNSET))


        def _parse_grant_types(data: object) -> list[AppGrantType] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                grant_types_type_0 = []
                _grant_types_type_0 = data
                for grant_types_type_0_item_data in (_grant_types_type_0):
                    grant_types_type_0_item = AppGrantType(grant_types_type_0_item_data)



                    grant_types_type_0.append(grant_types_type_0_item)

                return grant_types_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[AppGrantType] | None | Unset, data)

        grant_types = _parse_grant_types(d.pop("grant_types", UNSET))


        def _parse_tenants(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                tenants_type_0 = cast(list[str], data)

                return tenants_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        tenants = _parse_tenants(d.pop("tenants", UNSET))


        def _parse_all_tenants(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        all_tenants = _parse_all_tenants(d.pop("all_tenants", UNSET))


        register_application = cls(
            name=name,
            environment=environment,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            grant_types=grant_types,
            tenants=tenants,
            all_tenants=all_tenants,
        )

        return register_application

