""" Contains all the data models used in inputs/outputs """

from .api_key import ApiKey
from .api_key_page import ApiKeyPage
from .app_environment import AppEnvironment
from .app_grant_type import AppGrantType
from .application import Application
from .application_page import ApplicationPage
from .attempt import Attempt
from .audit_event import AuditEvent
from .audit_event_actor import AuditEventActor
from .audit_event_batch import AuditEventBatch
from .audit_event_metadata_type_0 import AuditEventMetadataType0
from .audit_event_outcome import AuditEventOutcome
from .audit_event_resource import AuditEventResource
from .audit_event_result import AuditEventResult
from .audit_event_status import AuditEventStatus
from .audit_ingested import AuditIngested
from .authorize_request import AuthorizeRequest
from .bearer_error import BearerError
from .bearer_error_code import BearerErrorCode
from .bulk_report import BulkReport
from .caller_type import CallerType
from .change_application import ChangeApplication
from .change_plan import ChangePlan
from .change_settings import ChangeSettings
from .checkpoint_key import CheckpointKey
from .clear_flag_plan_default_plan import ClearFlagPlanDefaultPlan
from .cloud_event import CloudEvent
from .cloud_event_data_type_0 import CloudEventDataType0
from .cloud_event_specversion import CloudEventSpecversion
from .code_challenge_method import CodeChallengeMethod
from .delivery import Delivery
from .delivery_detail import DeliveryDetail
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .discovery_document import DiscoveryDocument
from .effective_flag import EffectiveFlag
from .effective_flag_page import EffectiveFlagPage
from .effective_flags import EffectiveFlags
from .effective_flags_flags import EffectiveFlagsFlags
from .endpoint import Endpoint
from .endpoint_page import EndpointPage
from .endpoint_status import EndpointStatus
from .endpoint_with_secret import EndpointWithSecret
from .erasure import Erasure
from .error import Error
from .error_code import ErrorCode
from .event_actor import EventActor
from .event_data import EventData
from .event_type import EventType
from .event_type_info import EventTypeInfo
from .field_error import FieldError
from .flag_change import FlagChange
from .flag_change_page import FlagChangePage
from .flag_definition import FlagDefinition
from .flag_definition_changes import FlagDefinitionChanges
from .flag_definition_page import FlagDefinitionPage
from .flag_definition_plan_defaults import FlagDefinitionPlanDefaults
from .flag_override import FlagOverride
from .flag_source import FlagSource
from .flag_stream_event import FlagStreamEvent
from .flag_value import FlagValue
from .grant_type import GrantType
from .introspect_form import IntrospectForm
from .introspection import Introspection
from .invite_user import InviteUser
from .issue_key import IssueKey
from .issued_key import IssuedKey
from .json_web_key import JsonWebKey
from .json_web_key_set import JsonWebKeySet
from .key_scope import KeyScope
from .key_type import KeyType
from .location_signal import LocationSignal
from .maintenance_notice import MaintenanceNotice
from .me import Me
from .mfa_policy import MfaPolicy
from .new_flag_definition import NewFlagDefinition
from .new_webhook import NewWebhook
from .o_auth_error import OAuthError
from .o_auth_error_code import OAuthErrorCode
from .oauth_authorize_code_challenge_method import OauthAuthorizeCodeChallengeMethod
from .oauth_authorize_prompt import OauthAuthorizePrompt
from .oauth_authorize_response_type import OauthAuthorizeResponseType
from .ofrep_bulk_evaluation import OfrepBulkEvaluation
from .ofrep_error_code import OfrepErrorCode
from .ofrep_evaluation import OfrepEvaluation
from .ofrep_evaluation_context import OfrepEvaluationContext
from .ofrep_evaluation_request import OfrepEvaluationRequest
from .ofrep_failure import OfrepFailure
from .ofrep_flag_not_found import OfrepFlagNotFound
from .ofrep_flag_not_found_code import OfrepFlagNotFoundCode
from .ofrep_general_error import OfrepGeneralError
from .ofrep_metadata import OfrepMetadata
from .ofrep_reason import OfrepReason
from .ofrep_variant import OfrepVariant
from .password_policy import PasswordPolicy
from .password_policy_change import PasswordPolicyChange
from .pending_invitation import PendingInvitation
from .pending_invitation_page import PendingInvitationPage
from .plan import Plan
from .prompt import Prompt
from .provision_tenant import ProvisionTenant
from .pulled_usage_event import PulledUsageEvent
from .register_application import RegisterApplication
from .rejected_line import RejectedLine
from .response_type import ResponseType
from .revoke_form import RevokeForm
from .role import Role
from .service_state import ServiceState
from .service_status import ServiceStatus
from .sessions_revoked import SessionsRevoked
from .set_flag_plan_default_plan import SetFlagPlanDefaultPlan
from .settable_status import SettableStatus
from .signing_algorithm import SigningAlgorithm
from .subscribable_event_type import SubscribableEventType
from .suspend_tenant import SuspendTenant
from .tenant import Tenant
from .tenant_page import TenantPage
from .tenant_role import TenantRole
from .tenant_settings import TenantSettings
from .tenant_status import TenantStatus
from .token_form import TokenForm
from .token_response import TokenResponse
from .token_type_hint import TokenTypeHint
from .updated_user import UpdatedUser
from .usage_event import UsageEvent
from .usage_event_batch import UsageEventBatch
from .usage_event_metadata_type_0 import UsageEventMetadataType0
from .usage_event_page import UsageEventPage
from .usage_event_result import UsageEventResult
from .usage_event_status import UsageEventStatus
from .usage_ingested import UsageIngested
from .usage_total import UsageTotal
from .usage_totals import UsageTotals
from .usage_totals_window import UsageTotalsWindow
from .user_changes import UserChanges
from .user_info import UserInfo
from .user_page import UserPage
from .user_status import UserStatus
from .user_view import UserView
from .void_status import VoidStatus
from .void_usage_event import VoidUsageEvent
from .voided import Voided
from .webhook_changes import WebhookChanges
from .webhook_event import WebhookEvent

__all__ = (
    "ApiKey",
    "ApiKeyPage",
    "AppEnvironment",
    "AppGrantType",
    "Application",
    "ApplicationPage",
    "Attempt",
    "AuditEvent",
    "AuditEventActor",
    "AuditEventBatch",
    "AuditEventMetadataType0",
    "AuditEventOutcome",
    "AuditEventResource",
    "AuditEventResult",
    "AuditEventStatus",
    "AuditIngested",
    "AuthorizeRequest",
    "BearerError",
    "BearerErrorCode",
    "BulkReport",
    "CallerType",
    "ChangeApplication",
    "ChangePlan",
    "ChangeSettings",
    "CheckpointKey",
    "ClearFlagPlanDefaultPlan",
    "CloudEvent",
    "CloudEventDataType0",
    "CloudEventSpecversion",
    "CodeChallengeMethod",
    "Delivery",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryStatus",
    "DiscoveryDocument",
    "EffectiveFlag",
    "EffectiveFlagPage",
    "EffectiveFlags",
    "EffectiveFlagsFlags",
    "Endpoint",
    "EndpointPage",
    "EndpointStatus",
    "EndpointWithSecret",
    "Erasure",
    "Error",
    "ErrorCode",
    "EventActor",
    "EventData",
    "EventType",
    "EventTypeInfo",
    "FieldError",
    "FlagChange",
    "FlagChangePage",
    "FlagDefinition",
    "FlagDefinitionChanges",
    "FlagDefinitionPage",
    "FlagDefinitionPlanDefaults",
    "FlagOverride",
    "FlagSource",
    "FlagStreamEvent",
    "FlagValue",
    "GrantType",
    "IntrospectForm",
    "Introspection",
    "InviteUser",
    "IssuedKey",
    "IssueKey",
    "JsonWebKey",
    "JsonWebKeySet",
    "KeyScope",
    "KeyType",
    "LocationSignal",
    "MaintenanceNotice",
    "Me",
    "MfaPolicy",
    "NewFlagDefinition",
    "NewWebhook",
    "OauthAuthorizeCodeChallengeMethod",
    "OauthAuthorizePrompt",
    "OauthAuthorizeResponseType",
    "OAuthError",
    "OAuthErrorCode",
    "OfrepBulkEvaluation",
    "OfrepErrorCode",
    "OfrepEvaluation",
    "OfrepEvaluationContext",
    "OfrepEvaluationRequest",
    "OfrepFailure",
    "OfrepFlagNotFound",
    "OfrepFlagNotFoundCode",
    "OfrepGeneralError",
    "OfrepMetadata",
    "OfrepReason",
    "OfrepVariant",
    "PasswordPolicy",
    "PasswordPolicyChange",
    "PendingInvitation",
    "PendingInvitationPage",
    "Plan",
    "Prompt",
    "ProvisionTenant",
    "PulledUsageEvent",
    "RegisterApplication",
    "RejectedLine",
    "ResponseType",
    "RevokeForm",
    "Role",
    "ServiceState",
    "ServiceStatus",
    "SessionsRevoked",
    "SetFlagPlanDefaultPlan",
    "SettableStatus",
    "SigningAlgorithm",
    "SubscribableEventType",
    "SuspendTenant",
    "Tenant",
    "TenantPage",
    "TenantRole",
    "TenantSettings",
    "TenantStatus",
    "TokenForm",
    "TokenResponse",
    "TokenTypeHint",
    "UpdatedUser",
    "UsageEvent",
    "UsageEventBatch",
    "UsageEventMetadataType0",
    "UsageEventPage",
    "UsageEventResult",
    "UsageEventStatus",
    "UsageIngested",
    "UsageTotal",
    "UsageTotals",
    "UsageTotalsWindow",
    "UserChanges",
    "UserInfo",
    "UserPage",
    "UserStatus",
    "UserView",
    "Voided",
    "VoidStatus",
    "VoidUsageEvent",
    "WebhookChanges",
    "WebhookEvent",
)
