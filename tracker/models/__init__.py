"""Loopwise's domain, one module per area; import models from here."""

from tracker.models.api import IdempotencyKey
from tracker.models.backlog import (
    FINISHED_STATUSES,
    BacklogItem,
    Comment,
    ItemKind,
    ItemStatus,
    Label,
    Priority,
)
from tracker.models.base import PublicModel, Segment
from tracker.models.customers import Customer, CustomerKind, Tier
from tracker.models.expressions import AnyOf  # noqa: F401 - registers the `__any` lookup
from tracker.models.feed import PROJECT_KINDS, Change, ChangeKind, ChangeOp, ConsumerPosition, FeedState
from tracker.models.feedback import (
    Channel,
    Feedback,
    FeedbackLink,
    LoopState,
    TriageState,
)
from tracker.models.history import History, HistoryAction
from tracker.models.integrations import (
    ApiToken,
    CustomerNotification,
    DeliveryStatus,
    TokenScope,
    Webhook,
    WebhookDelivery,
)
from tracker.models.jobs import ImportChunk, ImportFormat, ImportJob, ImportKind, ImportStatus, TaskRecord, TaskState
from tracker.models.rollups import BurndownPoint, MetricRollup
from tracker.models.similarity import Suggestion, SuggestionKind, TermPosting, TermStat
from tracker.models.sprints import Sprint, SprintState
from tracker.models.workspace import (
    Membership,
    Objective,
    Project,
    ProjectMembership,
    ProjectRole,
    Workspace,
    WorkspaceRole,
)

__all__ = [
    "FINISHED_STATUSES",
    "PROJECT_KINDS",
    "Change",
    "ChangeKind",
    "ChangeOp",
    "ConsumerPosition",
    "FeedState",
    "ApiToken",
    "BacklogItem",
    "BurndownPoint",
    "Channel",
    "Comment",
    "Customer",
    "CustomerKind",
    "CustomerNotification",
    "DeliveryStatus",
    "Feedback",
    "FeedbackLink",
    "History",
    "IdempotencyKey",
    "HistoryAction",
    "ImportChunk",
    "ImportFormat",
    "ImportJob",
    "ImportKind",
    "ImportStatus",
    "ItemKind",
    "ItemStatus",
    "Label",
    "LoopState",
    "Membership",
    "MetricRollup",
    "Objective",
    "Priority",
    "Project",
    "ProjectMembership",
    "ProjectRole",
    "PublicModel",
    "Segment",
    "Sprint",
    "SprintState",
    "Suggestion",
    "SuggestionKind",
    "TaskRecord",
    "TaskState",
    "TermPosting",
    "TermStat",
    "Tier",
    "TokenScope",
    "TriageState",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceRole",
]
