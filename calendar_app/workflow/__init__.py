"""Every change to a publication's, a proposal's or a crisis's status, one function each.

The package is the public API: `from calendar_app import workflow; workflow.approve(...)`.
Each action authorises through calendar_app.permissions (PermissionDenied), guards the
state against the transition tables in `core`, changes the row with a compare-and-set
update, writes its history row in the same transaction and sends notifications after
commit. The modules: `core` (errors, tables, history, compare-and-set), `publications`,
`review`, `proposals`, `deliveries`, `crisis`, `guidelines` (central's changes to the rules).
"""

from calendar_app.workflow.core import (
    ACTION_LABELS,
    MAX_COMMENT,
    PROPOSAL_ACTION_LABELS,
    PROPOSAL_TRANSITIONS,
    TRANSITIONS,
    USER_ACTIONS,
    AddressRefused,
    CrisisRefused,
    DecisionRefused,
    GuidelinesFailed,
    StaleEdit,
    TransitionNotAllowed,
    WorkflowError,
    content_snapshot,
    record_event,
)
from calendar_app.workflow.crisis import (
    REPEAT_WINDOW,
    AdvisoryContent,
    acknowledge_crisis,
    break_glass,
    broadcast_advisory,
    declare_crisis,
    end_crisis,
    hold_what_active_crises_cover,
    release_publication,
    review_after_the_fact,
)
from calendar_app.workflow.deliveries import (
    continue_delivery,
    record_delivery,
    retry_delivery,
    settle_publication,
)
from calendar_app.workflow.guidelines import change_guideline
from calendar_app.workflow.proposals import (
    ProposalContent,
    accept_proposal,
    adopt_proposal,
    decline_proposal,
    dismiss_proposal,
    save_proposal,
    submit_proposal,
    withdraw_proposal,
)
from calendar_app.workflow.publications import (
    PublicationContent,
    add_comment,
    create_publication,
    duplicate_publication,
    recompute_instants_for_zone,
    reschedule_publication,
    update_publication,
)
from calendar_app.workflow.review import approve, cancel, request_changes, resubmit, retry, submit, withdraw

__all__ = [
    "ACTION_LABELS",
    "MAX_COMMENT",
    "PROPOSAL_ACTION_LABELS",
    "PROPOSAL_TRANSITIONS",
    "REPEAT_WINDOW",
    "TRANSITIONS",
    "USER_ACTIONS",
    "AddressRefused",
    "AdvisoryContent",
    "CrisisRefused",
    "DecisionRefused",
    "GuidelinesFailed",
    "ProposalContent",
    "PublicationContent",
    "StaleEdit",
    "TransitionNotAllowed",
    "WorkflowError",
    "accept_proposal",
    "acknowledge_crisis",
    "add_comment",
    "adopt_proposal",
    "approve",
    "break_glass",
    "broadcast_advisory",
    "cancel",
    "change_guideline",
    "content_snapshot",
    "continue_delivery",
    "create_publication",
    "decline_proposal",
    "declare_crisis",
    "dismiss_proposal",
    "duplicate_publication",
    "end_crisis",
    "hold_what_active_crises_cover",
    "recompute_instants_for_zone",
    "record_delivery",
    "record_event",
    "release_publication",
    "request_changes",
    "reschedule_publication",
    "resubmit",
    "retry",
    "retry_delivery",
    "save_proposal",
    "review_after_the_fact",
    "settle_publication",
    "submit",
    "submit_proposal",
    "update_publication",
    "withdraw",
    "withdraw_proposal",
]
