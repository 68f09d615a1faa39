"""Holes a code review found, each closed and kept closed."""

import io
from datetime import date, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from calendar_app import workflow
from calendar_app.models import Asset, Comment, Notification, Proposal, Publication, PublicationStatus
from calendar_app.workflow import PublicationContent
from diplomacy.models import Role
from tests.factories import make_channel, make_user

SOON = date.today() + timedelta(days=30)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def channel(istanbul):
    return make_channel(post=istanbul)


def publish_with_image(client, editor, channel) -> Publication:
    client.force_login(editor)
    data = {
        "title": "With a photo",
        "kind": "regular",
        "channels": [channel.pk],
        "local_date": SOON.isoformat(),
        "local_time": "09:00",
        "variant_en": "Text",
        "alt_en": "A quay",
        "image": SimpleUploadedFile("p.png", png(), content_type="image/png"),
    }
    assert client.post(reverse("publication_new"), data).status_code == 302
    return Publication.objects.get()


def test_describing_a_shared_image_copies_it_and_leaves_the_other_publication_alone(
    client, editor, reviewer, channel, ankara, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    original = publish_with_image(client, editor, channel)
    [copy] = workflow.duplicate_publication(
        reviewer, original, local_date=date(2030, 1, 11), local_time=time(9)
    )
    content = PublicationContent(
        title=original.title,
        kind="regular",
        campaign=None,
        channels=[channel],
        local_date=original.local_date,
        local_time=original.local_time,
        variants={"en": "Text"},
        shown_alt_texts={"en": "Something else"},
    )
    workflow.update_publication(editor, original, content, expected_revision=original.revision)
    assert copy.assets.get().alt_texts == {"en": "A quay"}
    assert original.assets.get().alt_texts == {"en": "Something else"}
    assert Asset.objects.count() == 2


def test_a_changed_description_sends_an_approved_publication_back_to_review(
    client, editor, channel, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    publication = publish_with_image(client, editor, channel)
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    publication.refresh_from_db()
    content = PublicationContent(
        title=publication.title,
        kind="regular",
        campaign=None,
        channels=[channel],
        local_date=publication.local_date,
        local_time=publication.local_time,
        variants={"en": "Text"},
        shown_alt_texts={"en": "Another description"},
    )
    updated = workflow.update_publication(
        editor, publication, content, expected_revision=publication.revision
    )
    assert updated.status == PublicationStatus.IN_REVIEW


def test_other_posts_do_not_read_the_review_thread_of_an_approved_publication(
    client, editor, reviewer, channel, ankara
):
    publication = Publication.objects.create(
        post=channel.post,
        title="Approved",
        local_date=date(2030, 1, 10),
        local_time=time(9),
        timezone="Europe/Istanbul",
        scheduled_at="2030-01-10T06:00:00Z",
        author=editor,
        status=PublicationStatus.APPROVED,
    )
    Comment.objects.create(publication=publication, author=reviewer, text="Internal remark about tone")
    client.force_login(make_user(role=Role.POST_EDITOR, post=ankara))
    page = client.get(publication.get_absolute_url())
    assert page.status_code == 200
    assert "Internal remark about tone" not in page.content.decode()
    client.force_login(editor)
    assert "Internal remark about tone" in client.get(publication.get_absolute_url()).content.decode()


def test_a_comment_does_not_reach_a_reviewer_who_left_central(editor, reviewer, second_reviewer, channel):
    from calendar_app.models import PublicationRevision, Review

    publication = Publication.objects.create(
        post=channel.post,
        title="P",
        local_date=date(2030, 1, 10),
        local_time=time(9),
        timezone="Europe/Istanbul",
        scheduled_at="2030-01-10T06:00:00Z",
        author=editor,
    )
    revision = PublicationRevision.objects.create(publication=publication, number=1, content={})
    Review.objects.create(
        publication=publication, revision=revision, reviewer=reviewer, decision="approve", guideline_version=0
    )
    reviewer.memberships.all().delete()
    workflow.add_comment(editor, publication, "A question")
    assert not Notification.objects.filter(recipient=reviewer).exists()


def test_a_proposal_edit_cannot_undo_a_colleagues_submission(client, fit, partner_user):
    from calendar_app.models import ProposalVariant

    proposal = Proposal.objects.create(partner=fit, title="Draft", created_by=partner_user)
    ProposalVariant.objects.create(proposal=proposal, language="en", text="Hello")
    client.force_login(partner_user)
    page = client.get(reverse("proposal_detail", args=[proposal.pk]))
    assert page.context["form"] is not None
    workflow.submit_proposal(partner_user, Proposal.objects.get(pk=proposal.pk))
    # The form loaded before the submission is posted afterwards.
    form = page.context["form"]
    proposal_stale = Proposal.objects.get(pk=proposal.pk)
    proposal_stale.status = "draft"
    from calendar_app.views.proposals import _save_proposal

    class Request:
        user = partner_user

    data = {
        **form.initial,
        "title": "Overwritten",
        "texts": {"en": "Hello"},
        "target_countries": [],
        "target_posts": [],
        "clean_image": None,
        "alt_texts": {},
    }
    form.cleaned_data = data
    with pytest.raises(workflow.TransitionNotAllowed):
        _save_proposal(Request(), form, proposal_stale)
    assert Proposal.objects.get(pk=proposal.pk).status == "submitted"
    assert Proposal.objects.get(pk=proposal.pk).title == "Draft"


@pytest.mark.parametrize("value", ["²", "¹:1", "1:²"])
def test_superscript_digits_in_ids_never_give_a_500(client, reviewer, editor, channel, value):
    client.force_login(reviewer)
    assert client.post(reverse("approvals_bulk"), {"selected": value}).status_code == 302
    client.force_login(editor)
    response = client.post(
        reverse("publication_check"), {"post": channel.post.code, "publication": value, "variant_en": "x"}
    )
    assert response.status_code == 200


def test_report_csv_cells_that_look_like_formulas_are_quoted(client, reviewer, istanbul):
    make_channel(post=istanbul, platform="x", handle='=HYPERLINK("http://evil","x")')
    client.force_login(reviewer)
    body = b"".join(
        client.get(reverse("activity"), {"format": "csv"}).streaming_content
        if hasattr(client.get(reverse("activity"), {"format": "csv"}), "streaming_content")
        else [client.get(reverse("activity"), {"format": "csv"}).content]
    ).decode()
    assert "'=HYPERLINK" in body
