"""The languages every advisory is written in come from the required-languages guideline:
the workflow, the composer and the crisis templates follow central's setting."""

from __future__ import annotations

import pytest

from calendar_app import guidelines, workflow
from calendar_app.forms import AdvisoryForm, CrisisTemplateForm
from calendar_app.models import Guideline, Publication, PublicationStatus
from calendar_app.workflow import AdvisoryContent
from tests.factories import make_channel


@pytest.fixture
def english_and_german(db):
    """Central changed the rule: advisories in English and German (not Dutch and French)."""
    return Guideline.objects.create(
        code="required-languages",
        severity="blocking",
        params={"advisory_languages": "en, de", "follow_post_policy": True},
    )


@pytest.fixture
def crisis(reviewer, istanbul):
    make_channel(post=istanbul, platform="facebook")
    return workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])


def _advisory(variants: dict[str, str]) -> AdvisoryContent:
    return AdvisoryContent(title="Stay indoors", variants=variants, platforms=["facebook"])


def test_advisories_are_in_dutch_and_french_until_central_changes_the_rule(db):
    assert guidelines.advisory_languages() == ["nl", "fr"]


def test_the_advisory_languages_are_those_central_set(english_and_german):
    assert guidelines.advisory_languages() == ["en", "de"]


def test_an_empty_setting_falls_back_to_the_rules_default(english_and_german):
    english_and_german.params = {"advisory_languages": " , "}
    english_and_german.save()
    assert guidelines.advisory_languages() == ["nl", "fr"]


def test_a_broadcast_needs_the_configured_languages_not_dutch_and_french(
    english_and_german, reviewer, crisis
):
    with pytest.raises(workflow.CrisisRefused, match="German"):
        workflow.broadcast_advisory(
            reviewer, crisis, _advisory({"nl": "Blijf binnen.", "fr": "Restez.", "en": "Stay."})
        )
    assert not Publication.objects.filter(crisis=crisis).exists()

    made, _skipped = workflow.broadcast_advisory(
        reviewer, crisis, _advisory({"en": "Stay indoors.", "de": "Bleiben Sie drinnen."})
    )

    assert [p.status for p in made] == [PublicationStatus.IN_REVIEW]
    assert set(made[0].variants.values_list("language", flat=True)) == {"en", "de"}


def test_the_default_still_refuses_an_advisory_without_french(reviewer, crisis):
    with pytest.raises(workflow.CrisisRefused, match="French"):
        workflow.broadcast_advisory(reviewer, crisis, _advisory({"nl": "Blijf binnen.", "en": "Stay."}))


def test_the_composer_requires_the_configured_languages_and_offers_the_others(english_and_german):
    form = AdvisoryForm(platforms=["facebook"], extra_languages=["tr"])

    required = {name for name, field in form.fields.items() if name.startswith("text_") and field.required}
    optional = [
        name for name, field in form.fields.items() if name.startswith("text_") and not field.required
    ]
    assert required == {"text_en", "text_de"}
    assert optional == ["text_nl", "text_fr", "text_tr"]
    assert [field.name for field in form.language_fields()] == [
        "text_en",
        "text_de",
        "text_nl",
        "text_fr",
        "text_tr",
    ]
    assert "English" in form.texts_help() and "German" in form.texts_help()


def test_the_composer_refuses_a_form_without_a_configured_language(english_and_german):
    data = {
        "title": "Stay indoors",
        "text_en": "Stay indoors.",
        "text_nl": "Blijf binnen.",
        "platforms": ["facebook"],
    }
    form = AdvisoryForm(data, platforms=["facebook"], extra_languages=[])
    assert not form.is_valid()
    assert set(form.errors) == {"text_de"}


def test_a_crisis_template_requires_the_configured_languages(english_and_german):
    form = CrisisTemplateForm({"name": "Storm", "text_en": "Stay indoors.", "text_nl": "Blijf binnen."})
    assert not form.is_valid()
    assert set(form.errors) == {"text_de"}
    assert form.languages == ["en", "de", "nl", "fr"]
