from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="CheckpointKey")



@_attrs_define
class CheckpointKey:
    """ The public half of the key that signs the audit checkpoints, as published.

        Attributes:
            name (str): The key's name: the log's origin (`host/audit`), as in each checkpoint.
            algorithm (str): Always `Ed25519`.
            public_key (str): Base64 of the 32-byte Ed25519 public key.
            key_id (str): Hex of the 4-byte key id carried by each signature line.
            verifier_key (str): The C2SP verifier key: `name+keyid+base64(0x01 || public key)`.
     """

    name: str
    algorithm: str
    public_key: str
    key_id: str
    verifier_key: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        algorithm = self.algorithm

        public_key = self.public_key

        key_id = self.key_id

        verifier_key = self.verifier_key


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "algorithm": algorithm,
            "public_key": public_key,
            "key_id": key_id,
            "verifier_key": verifier_key,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        algorithm = d.pop("algorithm")

        public_key = d.pop("public_key")

        key_id = d.pop("key_id")

        verifier_key = d.pop("verifier_key")

        checkpoint_key = cls(
            name=name,
            algorithm=algorithm,
            public_key=public_key,
            key_id=key_id,
            verifier_key=verifier_key,
        )


        checkpoint_key.additional_properties = d
        return checkpoint_key

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
