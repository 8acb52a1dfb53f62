from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.usage_event import UsageEvent
from ...models.usage_event_batch import UsageEventBatch
from ...models.usage_ingested import UsageIngested
from typing import cast



def _get_kwargs(
    *,
    body: UsageEvent | UsageEventBatch,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/billing/events",
    }

    
    if isinstance(body, UsageEvent):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()


    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | UsageIngested | None:
    if response.status_code == 200:
        response_200 = UsageIngested.from_dict(response.json())



        return response_200

    if response.status_code == 201:
        response_201 = UsageIngested.from_dict(response.json())



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

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())



        return response_413

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | UsageIngested]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: UsageEvent | UsageEventBatch,

) -> Response[Error | UsageIngested]:
    """ Report usage: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].quantity`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`; `duplicate` for an `id` this application sent before
    with the same content (stored once, so a retry never counts twice); `conflict` for an
    `id` sent before with other content (refused, named in `data`; the batch's other
    events are kept).

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/billing/events/bulk`.

    Args:
        body (UsageEvent | UsageEventBatch): One usage event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UsageIngested]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: UsageEvent | UsageEventBatch,

) -> Error | UsageIngested | None:
    """ Report usage: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].quantity`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`; `duplicate` for an `id` this application sent before
    with the same content (stored once, so a retry never counts twice); `conflict` for an
    `id` sent before with other content (refused, named in `data`; the batch's other
    events are kept).

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/billing/events/bulk`.

    Args:
        body (UsageEvent | UsageEventBatch): One usage event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UsageIngested
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: UsageEvent | UsageEventBatch,

) -> Response[Error | UsageIngested]:
    """ Report usage: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].quantity`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`; `duplicate` for an `id` this application sent before
    with the same content (stored once, so a retry never counts twice); `conflict` for an
    `id` sent before with other content (refused, named in `data`; the batch's other
    events are kept).

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/billing/events/bulk`.

    Args:
        body (UsageEvent | UsageEventBatch): One usage event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UsageIngested]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: UsageEvent | UsageEventBatch,

) -> Error | UsageIngested | None:
    """ Report usage: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].quantity`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`; `duplicate` for an `id` this application sent before
    with the same content (stored once, so a retry never counts twice); `conflict` for an
    `id` sent before with other content (refused, named in `data`; the batch's other
    events are kept).

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/billing/events/bulk`.

    Args:
        body (UsageEvent | UsageEventBatch): One usage event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UsageIngested
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
