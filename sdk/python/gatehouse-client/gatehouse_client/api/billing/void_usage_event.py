from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.void_usage_event import VoidUsageEvent
from ...models.voided import Voided
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    body: None | Unset | VoidUsageEvent = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/billing/events/{id}/void".format(id=quote(str(id), safe=""),),
    }

    
    if isinstance(body, VoidUsageEvent):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Voided | None:
    if response.status_code == 200:
        response_200 = Voided.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Voided]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: None | Unset | VoidUsageEvent = UNSET,

) -> Response[Error | Voided]:
    """ Void an event this application reported.

     Within the backdating window (35 days by default), an event can be voided: the void is
    appended as a record of its own, seen by the billing system's next pull (`kind:
    void`), subtracted from the usage totals and recorded in the audit trail. Nothing is
    edited. Voiding again changes nothing (`already_voided`). Another application's event,
    or one never reported, is not found.

    Args:
        id (str):
        body (None | Unset | VoidUsageEvent):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Voided]
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
    id: str,
    *,
    client: AuthenticatedClient,
    body: None | Unset | VoidUsageEvent = UNSET,

) -> Error | Voided | None:
    """ Void an event this application reported.

     Within the backdating window (35 days by default), an event can be voided: the void is
    appended as a record of its own, seen by the billing system's next pull (`kind:
    void`), subtracted from the usage totals and recorded in the audit trail. Nothing is
    edited. Voiding again changes nothing (`already_voided`). Another application's event,
    or one never reported, is not found.

    Args:
        id (str):
        body (None | Unset | VoidUsageEvent):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Voided
     """


    return sync_detailed(
        id=id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: None | Unset | VoidUsageEvent = UNSET,

) -> Response[Error | Voided]:
    """ Void an event this application reported.

     Within the backdating window (35 days by default), an event can be voided: the void is
    appended as a record of its own, seen by the billing system's next pull (`kind:
    void`), subtracted from the usage totals and recorded in the audit trail. Nothing is
    edited. Voiding again changes nothing (`already_voided`). Another application's event,
    or one never reported, is not found.

    Args:
        id (str):
        body (None | Unset | VoidUsageEvent):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Voided]
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
    id: str,
    *,
    client: AuthenticatedClient,
    body: None | Unset | VoidUsageEvent = UNSET,

) -> Error | Voided | None:
    """ Void an event this application reported.

     Within the backdating window (35 days by default), an event can be voided: the void is
    appended as a record of its own, seen by the billing system's next pull (`kind:
    void`), subtracted from the usage totals and recorded in the audit trail. Nothing is
    edited. Voiding again changes nothing (`already_voided`). Another application's event,
    or one never reported, is not found.

    Args:
        id (str):
        body (None | Unset | VoidUsageEvent):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Voided
     """


    return (await asyncio_detailed(
        id=id,
client=client,
body=body,

    )).parsed
