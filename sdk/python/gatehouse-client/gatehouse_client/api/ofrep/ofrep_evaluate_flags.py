from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.ofrep_bulk_evaluation import OfrepBulkEvaluation
from ...models.ofrep_evaluation_request import OfrepEvaluationRequest
from ...models.ofrep_failure import OfrepFailure
from ...models.ofrep_general_error import OfrepGeneralError
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: None | OfrepEvaluationRequest | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/ofrep/v1/evaluate/flags",
    }

    
    if isinstance(body, OfrepEvaluationRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError | None:
    if response.status_code == 200:
        response_200 = OfrepBulkEvaluation.from_dict(response.json())



        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 400:
        response_400 = OfrepFailure.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = OfrepGeneralError.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = OfrepGeneralError.from_dict(response.json())



        return response_403

    if response.status_code == 429:
        response_429 = OfrepGeneralError.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = OfrepGeneralError.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = OfrepGeneralError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError]:
    """ Evaluate every flag (OFREP bulk evaluation).

     Every flag of the tenant, evaluated for the context's `targetingKey` (else for the
    tenant). A flag rolled out by percentage, with no override or plan default deciding it,
    needs a `targetingKey`: without one it is listed with `TARGETING_KEY_MISSING`.

    The answer carries a strong `ETag`: send it back in `If-None-Match` and an unchanged
    answer is `304 Not Modified` without a body. Errors are in OFREP's format.

    Args:
        if_none_match (None | str | Unset):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError]
     """


    kwargs = _get_kwargs(
        body=body,
if_none_match=if_none_match,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError | None:
    """ Evaluate every flag (OFREP bulk evaluation).

     Every flag of the tenant, evaluated for the context's `targetingKey` (else for the
    tenant). A flag rolled out by percentage, with no override or plan default deciding it,
    needs a `targetingKey`: without one it is listed with `TARGETING_KEY_MISSING`.

    The answer carries a strong `ETag`: send it back in `If-None-Match` and an unchanged
    answer is `304 Not Modified` without a body. Errors are in OFREP's format.

    Args:
        if_none_match (None | str | Unset):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError
     """


    return sync_detailed(
        client=client,
body=body,
if_none_match=if_none_match,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError]:
    """ Evaluate every flag (OFREP bulk evaluation).

     Every flag of the tenant, evaluated for the context's `targetingKey` (else for the
    tenant). A flag rolled out by percentage, with no override or plan default deciding it,
    needs a `targetingKey`: without one it is listed with `TARGETING_KEY_MISSING`.

    The answer carries a strong `ETag`: send it back in `If-None-Match` and an unchanged
    answer is `304 Not Modified` without a body. Errors are in OFREP's format.

    Args:
        if_none_match (None | str | Unset):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError]
     """


    kwargs = _get_kwargs(
        body=body,
if_none_match=if_none_match,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError | None:
    """ Evaluate every flag (OFREP bulk evaluation).

     Every flag of the tenant, evaluated for the context's `targetingKey` (else for the
    tenant). A flag rolled out by percentage, with no override or plan default deciding it,
    needs a `targetingKey`: without one it is listed with `TARGETING_KEY_MISSING`.

    The answer carries a strong `ETag`: send it back in `If-None-Match` and an unchanged
    answer is `304 Not Modified` without a body. Errors are in OFREP's format.

    Args:
        if_none_match (None | str | Unset):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OfrepBulkEvaluation | OfrepFailure | OfrepGeneralError
     """


    return (await asyncio_detailed(
        client=client,
body=body,
if_none_match=if_none_match,

    )).parsed
