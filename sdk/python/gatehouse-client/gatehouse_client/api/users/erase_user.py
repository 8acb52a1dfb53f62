from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.erasure import Erasure
from ...models.error import Error
from typing import cast
from uuid import UUID



def _get_kwargs(
    id: UUID,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/users/{id}/erase".format(id=quote(str(id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Erasure | Error | None:
    if response.status_code == 200:
        response_200 = Erasure.from_dict(response.json())



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

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())



        return response_409

    if response.status_code == 410:
        response_410 = Error.from_dict(response.json())



        return response_410

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Erasure | Error]:
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

) -> Response[Erasure | Error]:
    """ Erase a person.

     The right to erasure: their sessions, tokens and second factors end; their personal data
    leaves every table (the record stays, pseudonymised); their data keys are destroyed, so
    every audit entry about them reads `[erased]` in its personal fields while the trail's
    proofs still verify. Nobody, operators included, can recover it. A waiting request of
    theirs is approved by it. Owners and admins, never on themselves nor (admins) on owners.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Erasure | Error]
     """


    kwargs = _get_kwargs(
        id=id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,

) -> Erasure | Error | None:
    """ Erase a person.

     The right to erasure: their sessions, tokens and second factors end; their personal data
    leaves every table (the record stays, pseudonymised); their data keys are destroyed, so
    every audit entry about them reads `[erased]` in its personal fields while the trail's
    proofs still verify. Nobody, operators included, can recover it. A waiting request of
    theirs is approved by it. Owners and admins, never on themselves nor (admins) on owners.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Erasure | Error
     """


    return sync_detailed(
        id=id,
client=client,

    ).parsed

async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,

) -> Response[Erasure | Error]:
    """ Erase a person.

     The right to erasure: their sessions, tokens and second factors end; their personal data
    leaves every table (the record stays, pseudonymised); their data keys are destroyed, so
    every audit entry about them reads `[erased]` in its personal fields while the trail's
    proofs still verify. Nobody, operators included, can recover it. A waiting request of
    theirs is approved by it. Owners and admins, never on themselves nor (admins) on owners.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Erasure | Error]
     """


    kwargs = _get_kwargs(
        id=id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,

) -> Erasure | Error | None:
    """ Erase a person.

     The right to erasure: their sessions, tokens and second factors end; their personal data
    leaves every table (the record stays, pseudonymised); their data keys are destroyed, so
    every audit entry about them reads `[erased]` in its personal fields while the trail's
    proofs still verify. Nobody, operators included, can recover it. A waiting request of
    theirs is approved by it. Owners and admins, never on themselves nor (admins) on owners.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Erasure | Error
     """


    return (await asyncio_detailed(
        id=id,
client=client,

    )).parsed
