from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.key_type import KeyType
from ..models.signing_algorithm import SigningAlgorithm
from ..types import UNSET, Unset






T = TypeVar("T", bound="JsonWebKey")



@_attrs_define
class JsonWebKey:
    """ A public signing key (RFC 7517, RFC 7518 §6): RSA (`n`, `e`) or P-256 (`crv`, `x`, `y`).

        Attributes:
            kty (KeyType):
            use (str): Always `sig`.
            alg (SigningAlgorithm):
            kid (str): The key id, as in the `kid` header of the tokens it signed.
            n (str | Unset): RSA: the modulus, base64url.
            e (str | Unset): RSA: the public exponent, base64url.
            crv (str | Unset): EC: always `P-256`.
            x (str | Unset): EC: the x coordinate, base64url.
            y (str | Unset): EC: the y coordinate, base64url.
     """

    kty: KeyType
    use: str
    alg: SigningAlgorithm
    kid: str
    n: str | Unset = UNSET
    e: str | Unset = UNSET
    crv: str | Unset = UNSET
    x: str | Unset = UNSET
    y: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        kty = self.kty.value

        use = self.use

        alg = self.alg.value

        kid = self.kid

        n = self.n

        e = self.e

        crv = self.crv

        x = self.x

        y = self.y


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "kty": kty,
            "use": use,
            "alg": alg,
            "kid": kid,
        })
        if n is not UNSET:
            field_dict["n"] = n
        if e is not UNSET:
            field_dict["e"] = e
        if crv is not UNSET:
            field_dict["crv"] = crv
        if x is not UNSET:
            field_dict["x"] = x
        if y is not UNSET:
            field_dict["y"] = y

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kty = KeyType(d.pop("kty"))




        use = d.pop("use")

        alg = SigningAlgorithm(d.pop("alg"))




        kid = d.pop("kid")

        n = d.pop("n", UNSET)

        e = d.pop("e", UNSET)

        crv = d.pop("crv", UNSET)

        x = d.pop("x", UNSET)

        y = d.pop("y", UNSET)

        json_web_key = cls(
            kty=kty,
            use=use,
            alg=alg,
            kid=kid,
            n=n,
            e=e,
            crv=crv,
            x=x,
            y=y,
        )


        json_web_key.additional_properties = d
        return json_web_key

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
