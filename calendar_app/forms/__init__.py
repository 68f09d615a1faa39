"""Forms of the calendar, one module a page family; this package names them all.

`publications` (the editor, rescheduling, duplication), `guidelines` (central's rule
settings), `proposals` (the partner's form, acceptance, targets), `crisis` (declaring,
advisories, break-glass, templates). Forms clean input and build the workflow's content
objects; every write goes through calendar_app.workflow.
"""

from calendar_app.forms.crisis import (
    AdvisoryForm,
    BreakGlassForm,
    CrisisTemplateForm,
    DeclareCrisisForm,
    template_languages,
)
from calendar_app.forms.guidelines import PARAM_LABELS, GuidelineForm
from calendar_app.forms.proposals import (
    EXTRA_LANGUAGES,
    PROPOSAL_LANGUAGES,
    AcceptProposalForm,
    ProposalForm,
    TargetFieldsMixin,
    campaigns_open_to,
    clean_country_codes,
)
from calendar_app.forms.publications import (
    MAX_DAYS_AHEAD,
    ChannelCheckboxes,
    DuplicateForm,
    PublicationForm,
    RescheduleForm,
    ScheduleFieldsMixin,
    check_schedule,
    languages_for,
)
from calendar_app.models import language_name

__all__ = [
    "EXTRA_LANGUAGES",
    "MAX_DAYS_AHEAD",
    "PARAM_LABELS",
    "PROPOSAL_LANGUAGES",
    "AcceptProposalForm",
    "AdvisoryForm",
    "BreakGlassForm",
    "ChannelCheckboxes",
    "CrisisTemplateForm",
    "DeclareCrisisForm",
    "DuplicateForm",
    "GuidelineForm",
    "ProposalForm",
    "PublicationForm",
    "RescheduleForm",
    "ScheduleFieldsMixin",
    "TargetFieldsMixin",
    "campaigns_open_to",
    "check_schedule",
    "clean_country_codes",
    "language_name",
    "languages_for",
    "template_languages",
]
