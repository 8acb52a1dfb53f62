from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.api_key import ApiKey
from ...models.error import Error
from typing import cast
from uuid import UUID



def _get_kwargs(
    id: UUID,
    key_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/apps/{id}/keys/{key_id}".format(id=quote(str(id), safe=""),key_id=quote(str(key_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ApiKey | Error | None:
    if response.status_code == 200:
        response_200 = ApiKey.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ApiKey | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    key_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ApiKey | Error]:
    """ Revoke a key.

     It authenticates no more: its refresh tokens are revoked and its access tokens refused
    from the next request on. Revoking a revoked key changes nothing. Audited
    (`api_key.revoke`).

    Args:
        id (UUID):
        key_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKey | Error]
     """


    kwargs = _get_kwargs(
        id=id,
key_id=key_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: UUID,
    key_id: str,
    *,
    client: AuthenticatedClient,

) -> ApiKey | Error | None:
    """ Revoke a key.

     It authenticates no more: its refresh tokens are revoked and its access tokens refused
    from the next request on. Revoking a revoked key changes nothing. Audited
    (`api_key.revoke`).

    Args:
        id (UUID):
        key_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKey | Error
     """


    return sync_detailed(
        id=id,
key_id=key_id,
client=client,

    ).parsed

async def asyncio_detailed(
    id: UUID,
    key_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[ApiKey | Error]:
    """ Revoke a key.

     It authenticates no more: its refresh tokens are revoked and its access tokens refused
    from the next request on. Revoking a revoked key changes nothing. Audited
    (`api_key.revoke`).

    Args:
        id (UUID):
        key_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKey | Error]
     """


    kwargs = _get_kwargs(
        id=id,
key_id=key_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: UUID,
    key_id: str,
    *,
    client: AuthenticatedClient,

) -> ApiKey | Error | None:
    """ Revoke a key.

     It authenticates no more: its refresh tokens are revoked and its access tokens refused
    from the next request on. Revoking a revoked key changes nothing. Audited
    (`api_key.revoke`).

    Args:
        id (UUID):
        key_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKey | Error
     """


    return (await asyncio_detailed(
        id=id,
key_id=key_id,
client=client,

    )).parsed
