from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.ofrep_evaluation import OfrepEvaluation
from ...models.ofrep_evaluation_request import OfrepEvaluationRequest
from ...models.ofrep_failure import OfrepFailure
from ...models.ofrep_flag_not_found import OfrepFlagNotFound
from ...models.ofrep_general_error import OfrepGeneralError
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    key: str,
    *,
    body: None | OfrepEvaluationRequest | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/ofrep/v1/evaluate/flags/{key}".format(key=quote(str(key), safe=""),),
    }

    
    if isinstance(body, OfrepEvaluationRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError | None:
    if response.status_code == 200:
        response_200 = OfrepEvaluation.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = OfrepFailure.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = OfrepGeneralError.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = OfrepGeneralError.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = OfrepFlagNotFound.from_dict(response.json())



        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    key: str,
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,

) -> Response[OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError]:
    """ Evaluate one flag (OFREP).

     The flag's value for the context's `targetingKey` (else for the tenant). A flag rolled
    out by percentage, with no override or plan default deciding it, needs a
    `targetingKey` (400 `TARGETING_KEY_MISSING`). Errors are in OFREP's format.

    Args:
        key (str):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError]
     """


    kwargs = _get_kwargs(
        key=key,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    key: str,
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,

) -> OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError | None:
    """ Evaluate one flag (OFREP).

     The flag's value for the context's `targetingKey` (else for the tenant). A flag rolled
    out by percentage, with no override or plan default deciding it, needs a
    `targetingKey` (400 `TARGETING_KEY_MISSING`). Errors are in OFREP's format.

    Args:
        key (str):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError
     """


    return sync_detailed(
        key=key,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    key: str,
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,

) -> Response[OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError]:
    """ Evaluate one flag (OFREP).

     The flag's value for the context's `targetingKey` (else for the tenant). A flag rolled
    out by percentage, with no override or plan default deciding it, needs a
    `targetingKey` (400 `TARGETING_KEY_MISSING`). Errors are in OFREP's format.

    Args:
        key (str):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError]
     """


    kwargs = _get_kwargs(
        key=key,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    key: str,
    *,
    client: AuthenticatedClient,
    body: None | OfrepEvaluationRequest | Unset = UNSET,

) -> OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError | None:
    """ Evaluate one flag (OFREP).

     The flag's value for the context's `targetingKey` (else for the tenant). A flag rolled
    out by percentage, with no override or plan default deciding it, needs a
    `targetingKey` (400 `TARGETING_KEY_MISSING`). Errors are in OFREP's format.

    Args:
        key (str):
        body (None | OfrepEvaluationRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OfrepEvaluation | OfrepFailure | OfrepFlagNotFound | OfrepGeneralError
     """


    return (await asyncio_detailed(
        key=key,
client=client,
body=body,

    )).parsed
