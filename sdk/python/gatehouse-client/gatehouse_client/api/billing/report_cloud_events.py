from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.cloud_event import CloudEvent
from ...models.error import Error
from typing import cast



def _get_kwargs(
    *,
    body:    CloudEvent  |     list[CloudEvent]  | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/events",
    }

    if isinstance(body, CloudEvent):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/cloudevents+json"
    if isinstance(body, list[CloudEvent]):
        _kwargs["json"] = []
        for body_item_data in body:
            body_item = body_item_data.to_dict()
            _kwargs["json"].append(body_item)



        headers["Content-Type"] = "application/cloudevents-batch+json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body:    CloudEvent  |     list[CloudEvent]  | Unset = UNSET,

) -> Response[Any | Error]:
    """ Report usage as CloudEvents 1.0, as OpenMeter's clients send them.

     One event (`application/cloudevents+json`) or an array of 1 to 100
    (`application/cloudevents-batch+json`; with `application/json`, an array is a batch).
    `subject` is the tenant's domain, `type` the event type, `source` + `id` the
    idempotency key, `data.quantity` the quantity (1 when absent) and the rest of `data` the
    metadata. Every violation of every event is named (`[1].data.quantity`) and nothing is
    stored.

    As OpenMeter answers: 204 when every event is stored, or was already (the same source
    and id with the same content). An id sent before with other content is refused and
    named (409); the batch's other events are stored. Events count against the key's
    events allowance (429, `Retry-After`).

    Args:
        body (CloudEvent): A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients
            send it.
            Extension attributes (names of lower-case letters and digits) are taken and not kept.
        body (list[CloudEvent]): 1 to 100 CloudEvents.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
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
    body:    CloudEvent  |     list[CloudEvent]  | Unset = UNSET,

) -> Any | Error | None:
    """ Report usage as CloudEvents 1.0, as OpenMeter's clients send them.

     One event (`application/cloudevents+json`) or an array of 1 to 100
    (`application/cloudevents-batch+json`; with `application/json`, an array is a batch).
    `subject` is the tenant's domain, `type` the event type, `source` + `id` the
    idempotency key, `data.quantity` the quantity (1 when absent) and the rest of `data` the
    metadata. Every violation of every event is named (`[1].data.quantity`) and nothing is
    stored.

    As OpenMeter answers: 204 when every event is stored, or was already (the same source
    and id with the same content). An id sent before with other content is refused and
    named (409); the batch's other events are stored. Events count against the key's
    events allowance (429, `Retry-After`).

    Args:
        body (CloudEvent): A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients
            send it.
            Extension attributes (names of lower-case letters and digits) are taken and not kept.
        body (list[CloudEvent]): 1 to 100 CloudEvents.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body:    CloudEvent  |     list[CloudEvent]  | Unset = UNSET,

) -> Response[Any | Error]:
    """ Report usage as CloudEvents 1.0, as OpenMeter's clients send them.

     One event (`application/cloudevents+json`) or an array of 1 to 100
    (`application/cloudevents-batch+json`; with `application/json`, an array is a batch).
    `subject` is the tenant's domain, `type` the event type, `source` + `id` the
    idempotency key, `data.quantity` the quantity (1 when absent) and the rest of `data` the
    metadata. Every violation of every event is named (`[1].data.quantity`) and nothing is
    stored.

    As OpenMeter answers: 204 when every event is stored, or was already (the same source
    and id with the same content). An id sent before with other content is refused and
    named (409); the batch's other events are stored. Events count against the key's
    events allowance (429, `Retry-After`).

    Args:
        body (CloudEvent): A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients
            send it.
            Extension attributes (names of lower-case letters and digits) are taken and not kept.
        body (list[CloudEvent]): 1 to 100 CloudEvents.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
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
    body:    CloudEvent  |     list[CloudEvent]  | Unset = UNSET,

) -> Any | Error | None:
    """ Report usage as CloudEvents 1.0, as OpenMeter's clients send them.

     One event (`application/cloudevents+json`) or an array of 1 to 100
    (`application/cloudevents-batch+json`; with `application/json`, an array is a batch).
    `subject` is the tenant's domain, `type` the event type, `source` + `id` the
    idempotency key, `data.quantity` the quantity (1 when absent) and the rest of `data` the
    metadata. Every violation of every event is named (`[1].data.quantity`) and nothing is
    stored.

    As OpenMeter answers: 204 when every event is stored, or was already (the same source
    and id with the same content). An id sent before with other content is refused and
    named (409); the batch's other events are stored. Events count against the key's
    events allowance (429, `Retry-After`).

    Args:
        body (CloudEvent): A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients
            send it.
            Extension attributes (names of lower-case letters and digits) are taken and not kept.
        body (list[CloudEvent]): 1 to 100 CloudEvents.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
