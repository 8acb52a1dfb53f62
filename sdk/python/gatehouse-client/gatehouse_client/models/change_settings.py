from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.location_signal import LocationSignal
from ..models.mfa_policy import MfaPolicy
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.password_policy_change import PasswordPolicyChange





T = TypeVar("T", bound="ChangeSettings")



@_attrs_define
class ChangeSettings:
    """ A change to the tenant's settings: only the fields present change. Strings are trimmed
    and a blank or `null` field counts as absent; `mfa_policy` is case-insensitive.

        Attributes:
            password_policy (None | PasswordPolicyChange | Unset):
            mfa_policy (MfaPolicy | None | Unset):
            session_idle_timeout_secs (int | None | Unset): A session ends after this many seconds without activity: 60 (1
                minute) to 86400
                (24 hours).
            location_signals (list[LocationSignal] | None | Unset): The whole set of location signals that are on (`[]`
                turns them all off).
     """

    password_policy: None | PasswordPolicyChange | Unset = UNSET
    mfa_policy: MfaPolicy | None | Unset = UNSET
    session_idle_timeout_secs: int | None | Unset = UNSET
    location_signals: list[LocationSignal] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.password_policy_change import PasswordPolicyChange # noqa: PLC0415
        password_policy: dict[str, Any] | None | Unset
        if isinstance(self.password_policy, Unset):
            password_policy = UNSET
        elif isinstance(self.password_policy, PasswordPolicyChange):
            password_policy = self.password_policy.to_dict()
        else:
            password_policy = self.password_policy

        mfa_policy: None | str | Unset
        if isinstance(self.mfa_policy, Unset):
            mfa_policy = UNSET
        elif isinstance(self.mfa_policy, MfaPolicy):
            mfa_policy = self.mfa_policy.value
        else:
            mfa_policy = self.mfa_policy

        session_idle_timeout_secs: int | None | Unset
        if isinstance(self.session_idle_timeout_secs, Unset):
            session_idle_timeout_secs = UNSET
        else:
            session_idle_timeout_secs = self.session_idle_timeout_secs

        location_signals: list[str] | None | Unset
        if isinstance(self.location_signals, Unset):
            location_signals = UNSET
        elif isinstance(self.location_signals, list):
            location_signals = []
            for location_signals_type_0_item_data in self.location_signals:
                location_signals_type_0_item = location_signals_type_0_item_data.value
                location_signals.append(location_signals_type_0_item)


        else:
            location_signals = self.location_signals


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if password_policy is not UNSET:
            field_dict["password_policy"] = password_policy
        if mfa_policy is not UNSET:
            field_dict["mfa_policy"] = mfa_policy
        if session_idle_timeout_secs is not UNSET:
            field_dict["session_idle_timeout_secs"] = session_idle_timeout_secs
        if location_signals is not UNSET:
            field_dict["location_signals"] = location_signals

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.password_policy_change import PasswordPolicyChange # noqa: PLC0415
        d = dict(src_dict)
        def _parse_password_policy(data: object) -> None | PasswordPolicyChange | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                password_policy_type_0 = PasswordPolicyChange.from_dict(data)



                return password_policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PasswordPolicyChange | Unset, data)

        password_policy = _parse_password_policy(d.pop("password_policy", UNSET))


        def _parse_mfa_policy(data: object) -> MfaPolicy | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                mfa_policy_type_0 = MfaPolicy(data)



                return mfa_policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MfaPolicy | None | Unset, data)

        mfa_policy = _parse_mfa_policy(d.pop("mfa_policy", UNSET))


        def _parse_session_idle_timeout_secs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        session_idle_timeout_secs = _parse_session_idle_timeout_secs(d.pop("session_idle_timeout_secs", UNSET))


        def _parse_location_signals(data: object) -> list[LocationSignal] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                location_signals_type_0 = []
                _location_signals_type_0 = data
                for location_signals_type_0_item_data in (_location_signals_type_0):
                    location_signals_type_0_item = LocationSignal(location_signals_type_0_item_data)



                    location_signals_type_0.append(location_signals_type_0_item)

                return location_signals_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[LocationSignal] | None | Unset, data)

        location_signals = _parse_location_signals(d.pop("location_signals", UNSET))


        change_settings = cls(
            password_policy=password_policy,
            mfa_policy=mfa_policy,
            session_idle_timeout_secs=session_idle_timeout_secs,
            location_signals=location_signals,
        )

        return change_settings

