from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.flag_override import FlagOverride
from typing import cast
from uuid import UUID



def _get_kwargs(
    id: UUID,
    key: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/tenants/{id}/flags/{key}".format(id=quote(str(id), safe=""),key=quote(str(key), safe=""),),
    }


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

) -> Response[Error | FlagOverride]:
    """ Clear a tenant's override of a flag (operators).

     The plan's default, the rollout or the flag's default decides again. Audited when there
    was one.

    Args:
        id (UUID):
        key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagOverride]
     """


    kwargs = _get_kwargs(
        id=id,
key=key,

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

) -> Error | FlagOverride | None:
    """ Clear a tenant's override of a flag (operators).

     The plan's default, the rollout or the flag's default decides again. Audited when there
    was one.

    Args:
        id (UUID):
        key (str):

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

    ).parsed

async def asyncio_detailed(
    id: UUID,
    key: str,
    *,
    client: AuthenticatedClient,

) -> Response[Error | FlagOverride]:
    """ Clear a tenant's override of a flag (operators).

     The plan's default, the rollout or the flag's default decides again. Audited when there
    was one.

    Args:
        id (UUID):
        key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagOverride]
     """


    kwargs = _get_kwargs(
        id=id,
key=key,

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

) -> Error | FlagOverride | None:
    """ Clear a tenant's override of a flag (operators).

     The plan's default, the rollout or the flag's default decides again. Audited when there
    was one.

    Args:
        id (UUID):
        key (str):

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

    )).parsed
