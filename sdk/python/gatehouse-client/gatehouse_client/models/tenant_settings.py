from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.location_signal import LocationSignal
from ..models.mfa_policy import MfaPolicy
from typing import cast

if TYPE_CHECKING:
  from ..models.password_policy import PasswordPolicy





T = TypeVar("T", bound="TenantSettings")



@_attrs_define
class TenantSettings:
    """ A tenant's sign-in policies.

        Attributes:
            password_policy (PasswordPolicy): A tenant's password rules. Passwords in a list of common passwords are always
                refused.
            mfa_policy (MfaPolicy):
            session_idle_timeout_secs (int): A session ends after this many seconds without activity (60 to 86400).
            location_signals (list[LocationSignal]): The location signals that ask a person with a second factor for it: a
                country never
                seen for them, impossible travel, an hour outside their usual ones.
     """

    password_policy: PasswordPolicy
    mfa_policy: MfaPolicy
    session_idle_timeout_secs: int
    location_signals: list[LocationSignal]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.password_policy import PasswordPolicy # noqa: PLC0415
        password_policy = self.password_policy.to_dict()

        mfa_policy = self.mfa_policy.value

        session_idle_timeout_secs = self.session_idle_timeout_secs

        location_signals = []
        for location_signals_item_data in self.location_signals:
            location_signals_item = location_signals_item_data.value
            location_signals.append(location_signals_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "password_policy": password_policy,
            "mfa_policy": mfa_policy,
            "session_idle_timeout_secs": session_idle_timeout_secs,
            "location_signals": location_signals,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.password_policy import PasswordPolicy # noqa: PLC0415
        d = dict(src_dict)
        password_policy = PasswordPolicy.from_dict(d.pop("password_policy"))




        mfa_policy = MfaPolicy(d.pop("mfa_policy"))




        session_idle_timeout_secs = d.pop("session_idle_timeout_secs")

        location_signals = []
        _location_signals = d.pop("location_signals")
        for location_signals_item_data in (_location_signals):
            location_signals_item = LocationSignal(location_signals_item_data)



            location_signals.append(location_signals_item)


        tenant_settings = cls(
            password_policy=password_policy,
            mfa_policy=mfa_policy,
            session_idle_timeout_secs=session_idle_timeout_secs,
            location_signals=location_signals,
        )


        tenant_settings.additional_properties = d
        return tenant_settings

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
