from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.issue_key import IssueKey
from ...models.issued_key import IssuedKey
from typing import cast
from uuid import UUID



def _get_kwargs(
    id: UUID,
    *,
    body: IssueKey,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/apps/{id}/keys".format(id=quote(str(id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | IssuedKey | None:
    if response.status_code == 201:
        response_201 = IssuedKey.from_dict(response.json())



        return response_201

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | IssuedKey]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueKey,

) -> Response[Error | IssuedKey]:
    """ Issue a key.

     The key's id and secret are an OAuth client_id and client secret of the application,
    for the grant types it may use. The secret is in this answer only. Audited
    (`api_key.issue`).

    Args:
        id (UUID):
        body (IssueKey): A new key. Strings are trimmed and a blank or `null` field counts as
            absent; `scopes`
            and `tenant` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | IssuedKey]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueKey,

) -> Error | IssuedKey | None:
    """ Issue a key.

     The key's id and secret are an OAuth client_id and client secret of the application,
    for the grant types it may use. The secret is in this answer only. Audited
    (`api_key.issue`).

    Args:
        id (UUID):
        body (IssueKey): A new key. Strings are trimmed and a blank or `null` field counts as
            absent; `scopes`
            and `tenant` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | IssuedKey
     """


    return sync_detailed(
        id=id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueKey,

) -> Response[Error | IssuedKey]:
    """ Issue a key.

     The key's id and secret are an OAuth client_id and client secret of the application,
    for the grant types it may use. The secret is in this answer only. Audited
    (`api_key.issue`).

    Args:
        id (UUID):
        body (IssueKey): A new key. Strings are trimmed and a blank or `null` field counts as
            absent; `scopes`
            and `tenant` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | IssuedKey]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueKey,

) -> Error | IssuedKey | None:
    """ Issue a key.

     The key's id and secret are an OAuth client_id and client secret of the application,
    for the grant types it may use. The secret is in this answer only. Audited
    (`api_key.issue`).

    Args:
        id (UUID):
        body (IssueKey): A new key. Strings are trimmed and a blank or `null` field counts as
            absent; `scopes`
            and `tenant` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | IssuedKey
     """


    return (await asyncio_detailed(
        id=id,
client=client,
body=body,

    )).parsed
