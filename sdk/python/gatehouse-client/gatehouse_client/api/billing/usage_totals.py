from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.usage_totals import UsageTotals
from ...models.usage_totals_window import UsageTotalsWindow
from ...types import UNSET, Unset
from typing import cast
import datetime



def _get_kwargs(
    *,
    tenant: str | Unset = UNSET,
    event_type: str | Unset = UNSET,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
    window: UsageTotalsWindow | Unset = UNSET,
    tz: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params["event_type"] = event_type

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    json_window: str | Unset = UNSET
    if not isinstance(window, Unset):
        json_window = window.value

    params["window"] = json_window

    params["tz"] = tz


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/billing/usage",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | UsageTotals | None:
    if response.status_code == 200:
        response_200 = UsageTotals.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | UsageTotals]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    event_type: str | Unset = UNSET,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
    window: UsageTotalsWindow | Unset = UNSET,
    tz: str | Unset = UNSET,

) -> Response[Error | UsageTotals]:
    """ Exact usage totals per tenant × event type × day or month.

     Windows start at midnight in `tz` (UTC by default); voids are subtracted. Quantities
    are decimal strings, since a sum may pass 2^53. More than 10,000 totals are cut
    (`truncated`): narrow the query.

    Args:
        tenant (str | Unset):
        event_type (str | Unset):
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):
        window (UsageTotalsWindow | Unset): A usage window.
        tz (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UsageTotals]
     """


    kwargs = _get_kwargs(
        tenant=tenant,
event_type=event_type,
from_=from_,
to=to,
window=window,
tz=tz,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    event_type: str | Unset = UNSET,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
    window: UsageTotalsWindow | Unset = UNSET,
    tz: str | Unset = UNSET,

) -> Error | UsageTotals | None:
    """ Exact usage totals per tenant × event type × day or month.

     Windows start at midnight in `tz` (UTC by default); voids are subtracted. Quantities
    are decimal strings, since a sum may pass 2^53. More than 10,000 totals are cut
    (`truncated`): narrow the query.

    Args:
        tenant (str | Unset):
        event_type (str | Unset):
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):
        window (UsageTotalsWindow | Unset): A usage window.
        tz (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UsageTotals
     """


    return sync_detailed(
        client=client,
tenant=tenant,
event_type=event_type,
from_=from_,
to=to,
window=window,
tz=tz,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    event_type: str | Unset = UNSET,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
    window: UsageTotalsWindow | Unset = UNSET,
    tz: str | Unset = UNSET,

) -> Response[Error | UsageTotals]:
    """ Exact usage totals per tenant × event type × day or month.

     Windows start at midnight in `tz` (UTC by default); voids are subtracted. Quantities
    are decimal strings, since a sum may pass 2^53. More than 10,000 totals are cut
    (`truncated`): narrow the query.

    Args:
        tenant (str | Unset):
        event_type (str | Unset):
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):
        window (UsageTotalsWindow | Unset): A usage window.
        tz (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UsageTotals]
     """


    kwargs = _get_kwargs(
        tenant=tenant,
event_type=event_type,
from_=from_,
to=to,
window=window,
tz=tz,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    event_type: str | Unset = UNSET,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
    window: UsageTotalsWindow | Unset = UNSET,
    tz: str | Unset = UNSET,

) -> Error | UsageTotals | None:
    """ Exact usage totals per tenant × event type × day or month.

     Windows start at midnight in `tz` (UTC by default); voids are subtracted. Quantities
    are decimal strings, since a sum may pass 2^53. More than 10,000 totals are cut
    (`truncated`): narrow the query.

    Args:
        tenant (str | Unset):
        event_type (str | Unset):
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):
        window (UsageTotalsWindow | Unset): A usage window.
        tz (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UsageTotals
     """


    return (await asyncio_detailed(
        client=client,
tenant=tenant,
event_type=event_type,
from_=from_,
to=to,
window=window,
tz=tz,

    )).parsed
