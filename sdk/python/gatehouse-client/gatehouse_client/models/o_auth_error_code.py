from enum import StrEnum

class OAuthErrorCode(StrEnum):
    ACCESS_DENIED = "access_denied"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    INVALID_REQUEST = "invalid_request"
    INVALID_SCOPE = "invalid_scope"
    LOGIN_REQUIRED = "login_required"
    REQUEST_NOT_SUPPORTED = "request_not_supported"
    SERVER_ERROR = "server_error"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"
    UNSUPPORTED_TOKEN_TYPE = "unsupported_token_type"

    def __str__(self) -> str:
        return str(self.value)
