from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.oauth_authorize_code_challenge_method import OauthAuthorizeCodeChallengeMethod
from ...models.oauth_authorize_prompt import OauthAuthorizePrompt
from ...models.oauth_authorize_response_type import OauthAuthorizeResponseType
from ...types import UNSET, Unset



def _get_kwargs(
    *,
    client_id: str,
    redirect_uri: str,
    response_type: OauthAuthorizeResponseType,
    code_challenge: str,
    code_challenge_method: OauthAuthorizeCodeChallengeMethod,
    scope: str | Unset = UNSET,
    state: str | Unset = UNSET,
    nonce: str | Unset = UNSET,
    prompt: OauthAuthorizePrompt | Unset = UNSET,
    max_age: int | Unset = UNSET,
    organization: str | Unset = UNSET,
    login_hint: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["client_id"] = client_id

    params["redirect_uri"] = redirect_uri

    json_response_type = response_type.value
    params["response_type"] = json_response_type

    params["code_challenge"] = code_challenge

    json_code_challenge_method = code_challenge_method.value
    params["code_challenge_method"] = json_code_challenge_method

    params["scope"] = scope

    params["state"] = state

    params["nonce"] = nonce

    json_prompt: str | Unset = UNSET
    if not isinstance(prompt, Unset):
        json_prompt = prompt.value

    params["prompt"] = json_prompt

    params["max_age"] = max_age

    params["organization"] = organization

    params["login_hint"] = login_hint


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/authorize",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | str | None:
    if response.status_code == 303:
        response_303 = cast(Any, None)
        return response_303

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 503:
        response_503 = response.text
        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    client_id: str,
    redirect_uri: str,
    response_type: OauthAuthorizeResponseType,
    code_challenge: str,
    code_challenge_method: OauthAuthorizeCodeChallengeMethod,
    scope: str | Unset = UNSET,
    state: str | Unset = UNSET,
    nonce: str | Unset = UNSET,
    prompt: OauthAuthorizePrompt | Unset = UNSET,
    max_age: int | Unset = UNSET,
    organization: str | Unset = UNSET,
    login_hint: str | Unset = UNSET,

) -> Response[Any | str]:
    """ Authorization endpoint.

     Starts the authorization code flow (RFC 6749 §4.1, PKCE S256 required, OpenID Connect
    Core §3.1.2) in the person's browser: the request is checked, the person signs in if
    needed, and the browser goes back to the application with a single-use code (valid 60
    seconds) to redeem at `/auth/token`. Errors that cannot go back to the application
    (an unknown client, an unregistered redirect URI) are shown as a page.

    Args:
        client_id (str):
        redirect_uri (str):
        response_type (OauthAuthorizeResponseType):
        code_challenge (str):
        code_challenge_method (OauthAuthorizeCodeChallengeMethod):
        scope (str | Unset):
        state (str | Unset):
        nonce (str | Unset):
        prompt (OauthAuthorizePrompt | Unset):
        max_age (int | Unset):
        organization (str | Unset):
        login_hint (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
     """


    kwargs = _get_kwargs(
        client_id=client_id,
redirect_uri=redirect_uri,
response_type=response_type,
code_challenge=code_challenge,
code_challenge_method=code_challenge_method,
scope=scope,
state=state,
nonce=nonce,
prompt=prompt,
max_age=max_age,
organization=organization,
login_hint=login_hint,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    client_id: str,
    redirect_uri: str,
    response_type: OauthAuthorizeResponseType,
    code_challenge: str,
    code_challenge_method: OauthAuthorizeCodeChallengeMethod,
    scope: str | Unset = UNSET,
    state: str | Unset = UNSET,
    nonce: str | Unset = UNSET,
    prompt: OauthAuthorizePrompt | Unset = UNSET,
    max_age: int | Unset = UNSET,
    organization: str | Unset = UNSET,
    login_hint: str | Unset = UNSET,

) -> Any | str | None:
    """ Authorization endpoint.

     Starts the authorization code flow (RFC 6749 §4.1, PKCE S256 required, OpenID Connect
    Core §3.1.2) in the person's browser: the request is checked, the person signs in if
    needed, and the browser goes back to the application with a single-use code (valid 60
    seconds) to redeem at `/auth/token`. Errors that cannot go back to the application
    (an unknown client, an unregistered redirect URI) are shown as a page.

    Args:
        client_id (str):
        redirect_uri (str):
        response_type (OauthAuthorizeResponseType):
        code_challenge (str):
        code_challenge_method (OauthAuthorizeCodeChallengeMethod):
        scope (str | Unset):
        state (str | Unset):
        nonce (str | Unset):
        prompt (OauthAuthorizePrompt | Unset):
        max_age (int | Unset):
        organization (str | Unset):
        login_hint (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return sync_detailed(
        client=client,
client_id=client_id,
redirect_uri=redirect_uri,
response_type=response_type,
code_challenge=code_challenge,
code_challenge_method=code_challenge_method,
scope=scope,
state=state,
nonce=nonce,
prompt=prompt,
max_age=max_age,
organization=organization,
login_hint=login_hint,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    client_id: str,
    redirect_uri: str,
    response_type: OauthAuthorizeResponseType,
    code_challenge: str,
    code_challenge_method: OauthAuthorizeCodeChallengeMethod,
    scope: str | Unset = UNSET,
    state: str | Unset = UNSET,
    nonce: str | Unset = UNSET,
    prompt: OauthAuthorizePrompt | Unset = UNSET,
    max_age: int | Unset = UNSET,
    organization: str | Unset = UNSET,
    login_hint: str | Unset = UNSET,

) -> Response[Any | str]:
    """ Authorization endpoint.

     Starts the authorization code flow (RFC 6749 §4.1, PKCE S256 required, OpenID Connect
    Core §3.1.2) in the person's browser: the request is checked, the person signs in if
    needed, and the browser goes back to the application with a single-use code (valid 60
    seconds) to redeem at `/auth/token`. Errors that cannot go back to the application
    (an unknown client, an unregistered redirect URI) are shown as a page.

    Args:
        client_id (str):
        redirect_uri (str):
        response_type (OauthAuthorizeResponseType):
        code_challenge (str):
        code_challenge_method (OauthAuthorizeCodeChallengeMethod):
        scope (str | Unset):
        state (str | Unset):
        nonce (str | Unset):
        prompt (OauthAuthorizePrompt | Unset):
        max_age (int | Unset):
        organization (str | Unset):
        login_hint (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
     """


    kwargs = _get_kwargs(
        client_id=client_id,
redirect_uri=redirect_uri,
response_type=response_type,
code_challenge=code_challenge,
code_challenge_method=code_challenge_method,
scope=scope,
state=state,
nonce=nonce,
prompt=prompt,
max_age=max_age,
organization=organization,
login_hint=login_hint,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    client_id: str,
    redirect_uri: str,
    response_type: OauthAuthorizeResponseType,
    code_challenge: str,
    code_challenge_method: OauthAuthorizeCodeChallengeMethod,
    scope: str | Unset = UNSET,
    state: str | Unset = UNSET,
    nonce: str | Unset = UNSET,
    prompt: OauthAuthorizePrompt | Unset = UNSET,
    max_age: int | Unset = UNSET,
    organization: str | Unset = UNSET,
    login_hint: str | Unset = UNSET,

) -> Any | str | None:
    """ Authorization endpoint.

     Starts the authorization code flow (RFC 6749 §4.1, PKCE S256 required, OpenID Connect
    Core §3.1.2) in the person's browser: the request is checked, the person signs in if
    needed, and the browser goes back to the application with a single-use code (valid 60
    seconds) to redeem at `/auth/token`. Errors that cannot go back to the application
    (an unknown client, an unregistered redirect URI) are shown as a page.

    Args:
        client_id (str):
        redirect_uri (str):
        response_type (OauthAuthorizeResponseType):
        code_challenge (str):
        code_challenge_method (OauthAuthorizeCodeChallengeMethod):
        scope (str | Unset):
        state (str | Unset):
        nonce (str | Unset):
        prompt (OauthAuthorizePrompt | Unset):
        max_age (int | Unset):
        organization (str | Unset):
        login_hint (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return (await asyncio_detailed(
        client=client,
client_id=client_id,
redirect_uri=redirect_uri,
response_type=response_type,
code_challenge=code_challenge,
code_challenge_method=code_challenge_method,
scope=scope,
state=state,
nonce=nonce,
prompt=prompt,
max_age=max_age,
organization=organization,
login_hint=login_hint,

    )).parsed
