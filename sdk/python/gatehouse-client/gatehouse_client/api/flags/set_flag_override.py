from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.flag_override import FlagOverride
from ...models.flag_value import FlagValue
from typing import cast
from uuid import UUID



def _get_kwargs(
    id: UUID,
    key: str,
    *,
    body: FlagValue,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/tenants/{id}/flags/{key}".format(id=quote(str(id), safe=""),key=quote(str(key), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | FlagOverride | None:
    if response.status_code == 200:
        response_200 = FlagOverride.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())



        return response_404

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())



        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | FlagOverride]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Response[Error | FlagOverride]:
    """ Override a flag for a tenant (operators).

     The override beats the plan's default, the rollout and the flag's default. Audited;
    served by every server within a second.

    Args:
        id (UUID):
        key (str):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagOverride]
     """


    kwargs = _get_kwargs(
        id=id,
key=key,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: UUID,
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Error | FlagOverride | None:
    """ Override a flag for a tenant (operators).

     The override beats the plan's default, the rollout and the flag's default. Audited;
    served by every server within a second.

    Args:
        id (UUID):
        key (str):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagOverride
     """


    return sync_detailed(
        id=id,
key=key,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    id: UUID,
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Response[Error | FlagOverride]:
    """ Override a flag for a tenant (operators).

     The override beats the plan's default, the rollout and the flag's default. Audited;
    served by every server within a second.

    Args:
        id (UUID):
        key (str):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagOverride]
     """


    kwargs = _get_kwargs(
        id=id,
key=key,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: UUID,
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Error | FlagOverride | None:
    """ Override a flag for a tenant (operators).

     The override beats the plan's default, the rollout and the flag's default. Audited;
    served by every server within a second.

    Args:
        id (UUID):
        key (str):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagOverride
     """


    return (await asyncio_detailed(
        id=id,
key=key,
client=client,
body=body,

    )).parsed
