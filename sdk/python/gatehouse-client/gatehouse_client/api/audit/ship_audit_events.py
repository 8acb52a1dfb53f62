from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.audit_event import AuditEvent
from ...models.audit_event_batch import AuditEventBatch
from ...models.audit_ingested import AuditIngested
from ...models.error import Error
from typing import cast



def _get_kwargs(
    *,
    body: AuditEvent | AuditEventBatch,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/audit-logs",
    }

    
    if isinstance(body, AuditEvent):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()


    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditIngested | Error | None:
    if response.status_code == 200:
        response_200 = AuditIngested.from_dict(response.json())



        return response_200

    if response.status_code == 201:
        response_201 = AuditIngested.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AuditIngested | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: AuditEvent | AuditEventBatch,

) -> Response[AuditIngested | Error]:
    """ Ship audit events: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].actor.id`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`, or `duplicate` for an `id` this application sent
    before (stored once). Events join the tamper-evident audit trail of their tenant.

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/audit-logs/bulk`.

    Args:
        body (AuditEvent | AuditEventBatch): One audit event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditIngested | Error]
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
    body: AuditEvent | AuditEventBatch,

) -> AuditIngested | Error | None:
    """ Ship audit events: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].actor.id`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`, or `duplicate` for an `id` this application sent
    before (stored once). Events join the tamper-evident audit trail of their tenant.

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/audit-logs/bulk`.

    Args:
        body (AuditEvent | AuditEventBatch): One audit event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditIngested | Error
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AuditEvent | AuditEventBatch,

) -> Response[AuditIngested | Error]:
    """ Ship audit events: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].actor.id`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`, or `duplicate` for an `id` this application sent
    before (stored once). Events join the tamper-evident audit trail of their tenant.

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/audit-logs/bulk`.

    Args:
        body (AuditEvent | AuditEventBatch): One audit event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditIngested | Error]
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
    body: AuditEvent | AuditEventBatch,

) -> AuditIngested | Error | None:
    """ Ship audit events: one event, or `{"events": [...]}` with at most 100.

     The whole body is validated first: every violation of every event is named with its
    field (`events[3].actor.id`) and nothing is stored. The answer comes after the commit,
    one status per event: `accepted`, or `duplicate` for an `id` this application sent
    before (stored once). Events join the tamper-evident audit trail of their tenant.

    Events count against the key's events allowance, not requests: a batch that does not
    fit is refused whole (429, `Retry-After`). For more than 100 events, use
    `/v1/audit-logs/bulk`.

    Args:
        body (AuditEvent | AuditEventBatch): One audit event, or `{"events": [...]}` with 1 to
            100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditIngested | Error
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
