from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.service_state import ServiceState
from typing import cast

if TYPE_CHECKING:
  from ..models.maintenance_notice import MaintenanceNotice





T = TypeVar("T", bound="ServiceStatus")



@_attrs_define
class ServiceStatus:
    """ The service's status: `maintenance` while a window is in progress, else `ok`; and
    every window in progress or to come, soonest first.

        Attributes:
            status (ServiceState): Whether the service is in a maintenance window right now.
            maintenance (list[MaintenanceNotice]):
     """

    status: ServiceState
    maintenance: list[MaintenanceNotice]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.maintenance_notice import MaintenanceNotice # noqa: PLC0415
        status = self.status.value

        maintenance = []
        for maintenance_item_data in self.maintenance:
            maintenance_item = maintenance_item_data.to_dict()
            maintenance.append(maintenance_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "status": status,
            "maintenance": maintenance,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.maintenance_notice import MaintenanceNotice # noqa: PLC0415
        d = dict(src_dict)
        status = ServiceState(d.pop("status"))




        maintenance = []
        _maintenance = d.pop("maintenance")
        for maintenance_item_data in (_maintenance):
            maintenance_item = MaintenanceNotice.from_dict(maintenance_item_data)



            maintenance.append(maintenance_item)


        service_status = cls(
            status=status,
            maintenance=maintenance,
        )


        service_status.additional_properties = d
        return service_status

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
