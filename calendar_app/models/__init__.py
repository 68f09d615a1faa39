"""The calendar's models, one module per aggregate; every public name is importable from here.

statuses (every choice list), assets (images), campaigns, proposals, crisis, broadcasts (a
group of publications written once and reviewed as one), publications
(Publication, Variant, history), review (revisions, decisions, comments), guidelines (and
priority countries), notifications (bell, email preference, ICS feed), deliveries, saved
filters (a user's last filters on a page); text
holds the language and number helpers forms and messages share.
"""

from calendar_app.models.assets import Asset, asset_path
from calendar_app.models.broadcasts import Broadcast, BroadcastDecision
from calendar_app.models.campaigns import CAMPAIGN_COLOURS, Campaign
from calendar_app.models.crisis import CRISIS_VERBS, Crisis, CrisisEvent, CrisisQuerySet, CrisisTemplate
from calendar_app.models.deliveries import Delivery, DeliveryPart, SenderHeartbeat
from calendar_app.models.guidelines import Guideline, GuidelineVersion, PriorityCountry
from calendar_app.models.notifications import CalendarFeed, Notification, NotificationPreference
from calendar_app.models.proposals import (
    Proposal,
    ProposalDismissal,
    ProposalEvent,
    ProposalQuerySet,
    ProposalVariant,
    aimed_at,
    open_for_adoption,
)
from calendar_app.models.publications import (
    EVENT_VERBS,
    Publication,
    PublicationEvent,
    PublicationQuerySet,
    Variant,
    fast_tracked,
    in_time_for_review,
    instant_for,
)
from calendar_app.models.review import Comment, PublicationRevision, Review
from calendar_app.models.saved_filters import FilteredPage, SavedFilter
from calendar_app.models.statuses import (
    CLOSED_STATUSES,
    NETWORK_VISIBLE_STATUSES,
    STATUS_ICONS,
    DeliveryStatus,
    ProposalStatus,
    ProposalTarget,
    PublicationKind,
    PublicationStatus,
    ReviewDecision,
)
from calendar_app.models.text import NETWORK_LANGUAGES, is_whole_number, language_name, language_names

__all__ = [
    "CAMPAIGN_COLOURS",
    "CLOSED_STATUSES",
    "CRISIS_VERBS",
    "EVENT_VERBS",
    "NETWORK_LANGUAGES",
    "NETWORK_VISIBLE_STATUSES",
    "STATUS_ICONS",
    "Asset",
    "Broadcast",
    "BroadcastDecision",
    "CalendarFeed",
    "Campaign",
    "Comment",
    "Crisis",
    "CrisisEvent",
    "CrisisQuerySet",
    "CrisisTemplate",
    "Delivery",
    "DeliveryPart",
    "SenderHeartbeat",
    "DeliveryStatus",
    "FilteredPage",
    "Guideline",
    "GuidelineVersion",
    "Notification",
    "NotificationPreference",
    "PriorityCountry",
    "Proposal",
    "ProposalDismissal",
    "ProposalEvent",
    "ProposalQuerySet",
    "ProposalStatus",
    "ProposalTarget",
    "ProposalVariant",
    "Publication",
    "PublicationEvent",
    "PublicationKind",
    "PublicationQuerySet",
    "PublicationRevision",
    "PublicationStatus",
    "Review",
    "ReviewDecision",
    "SavedFilter",
    "Variant",
    "aimed_at",
    "asset_path",
    "fast_tracked",
    "in_time_for_review",
    "instant_for",
    "is_whole_number",
    "language_name",
    "language_names",
    "open_for_adoption",
]
