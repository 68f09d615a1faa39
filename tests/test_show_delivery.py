"""`manage.py show_delivery ID`: what each channel of a publication sends, as JSON, from
the same function as the engine and the previews (calendar_app.sending)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from calendar_app import counting, sending
from calendar_app.management.commands import show_delivery
from calendar_app.models import Delivery
from calendar_app.publishing import engine, parts
from diplomacy.models import LanguagePlan
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver
from tests.test_connectors import VARIANTS, due_delivery, make_photo


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def show(publication_id: int) -> dict:
    out = io.StringIO()
    call_command("show_delivery", str(publication_id), stdout=out)
    return json.loads(out.getvalue())


def channel_of(post, platform: str, languages: str, plan: str, **extra: str):
    channel = make_channel(post=post, platform=platform, content_languages=languages)
    channel.language_plan = plan
    for field, value in extra.items():
        setattr(channel, field, value)
    channel.save()
    return channel


def test_it_prints_each_channels_parts_from_the_approved_revision(istanbul, editor, reviewer):
    thread = channel_of(istanbul, "x", "nl,fr", LanguagePlan.THREAD)
    photo = make_photo(editor, istanbul)
    delivery = due_delivery(thread, editor, reviewer, assets=[photo])
    combined = channel_of(istanbul, "facebook", "fr,nl,en", LanguagePlan.COMBINED)
    delivery.publication.channels.add(combined)  # a page of the same post (the test adds it directly)
    # An edit of the variants after approval is not what goes out.
    delivery.publication.variants.filter(language="nl").update(text="Gewijzigd na goedkeuring.")

    document = show(delivery.publication_id)

    assert (document["publication"], document["source"]) == (delivery.publication_id, "approved")
    on_x, on_facebook = document["channels"]
    assert {key: on_x[key] for key in ("channel", "handle", "platform", "plan", "languages", "left_out")} == {
        "channel": thread.pk,
        "handle": thread.handle,
        "platform": "x",
        "plan": "thread",
        "languages": ["nl", "fr"],
        "left_out": ["en", "tr"],
    }
    assert on_x["parts"] == [
        {
            "number": 1,
            "languages": ["nl"],
            "text": VARIANTS["nl"],
            "weighted_length": counting.count_for_platform(VARIANTS["nl"], "x"),
            "limit": 280,
            "fits": True,
            "images": [{"asset": photo.pk, "alt": "The consulate's garden in spring"}],
        },
        {
            "number": 2,
            "languages": ["fr"],
            "text": VARIANTS["fr"],
            "weighted_length": counting.count_for_platform(VARIANTS["fr"], "x"),
            "limit": 280,
            "fits": True,
            "images": [],
        },
    ]
    [post] = on_facebook["parts"]
    assert post["text"] == "\n\n".join([VARIANTS["fr"], VARIANTS["nl"], VARIANTS["en"]])
    assert (post["languages"], on_facebook["left_out"]) == (["fr", "nl", "en"], ["tr"])
    # The same answer as calendar_app.sending gives every page.
    content = parts.approved_content(delivery.publication)
    assert content is not None
    expected = sending.for_channels([thread, combined], content.texts, content.overrides, images=1)
    assert [[part["text"] for part in channel["parts"]] for channel in document["channels"]] == [
        [part.text for part in channel.parts] for channel in expected
    ]
    assert "delivery" not in on_facebook


def test_a_publication_not_yet_approved_shows_its_current_variants(istanbul, editor):
    channel = channel_of(istanbul, "mastodon", "nl,fr", LanguagePlan.SEPARATE)
    publication = make_publication(
        post=istanbul, author=editor, channels=[channel], variants={"nl": "Hallo", "fr": "Bonjour"}
    )
    document = show(publication.pk)
    assert document["source"] == "current"
    assert [part["text"] for part in document["channels"][0]["parts"]] == ["Hallo", "Bonjour"]


def test_a_delivered_publication_shows_each_parts_status_and_platform_id(istanbul, editor, reviewer):
    receiver = FakeReceiver()
    try:
        channel = channel_of(
            istanbul, "mastodon", "fr,nl", LanguagePlan.THREAD, connector="webhook", endpoint=receiver.url
        )
        delivery = due_delivery(channel, editor, reviewer)
        engine.deliver(delivery.pk)
        [on_mastodon] = show(delivery.publication_id)["channels"]
        assert [
            (part["number"], part["status"], part["platform_post_id"]) for part in on_mastodon["parts"]
        ] == [
            (1, "delivered", "post-1"),
            (2, "delivered", "post-2"),
        ]
        assert on_mastodon["delivery"]["status"] == "delivered"
        assert on_mastodon["delivery"]["platform_post_id"] == "post-1"
    finally:
        receiver.close()


def test_a_part_not_yet_sent_shows_as_pending(istanbul, editor, reviewer):
    channel = channel_of(
        istanbul,
        "mastodon",
        "fr,nl",
        LanguagePlan.THREAD,
        connector="webhook",
        endpoint="http://127.0.0.1:9/",
    )
    delivery = due_delivery(channel, editor, reviewer)
    engine.deliver(delivery.pk)  # nothing listens there: surely failed, tried again later
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    [on_mastodon] = show(delivery.publication_id)["channels"]
    assert [part["status"] for part in on_mastodon["parts"]] == ["pending", "pending"]


def test_an_unknown_id_is_a_clear_error_with_exit_code_1_and_no_traceback(db, capsys, monkeypatch):
    with pytest.raises(CommandError, match="There is no publication with id 999999."):
        call_command("show_delivery", "999999")
    # As from the command line: the message on stderr, exit code 1.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        show_delivery.Command().run_from_argv(["manage.py", "show_delivery", "999999"])
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert "There is no publication with id 999999." in error and "Traceback" not in error


def test_the_output_keeps_non_ascii_text_readable(istanbul, editor):
    channel = channel_of(istanbul, "facebook", "tr", LanguagePlan.SINGLE)
    publication = make_publication(
        post=istanbul,
        author=editor,
        channels=[channel],
        variants={"tr": "Belçika İstanbul fuarında"},
        local_date=(timezone.now() + timedelta(days=3)).date(),
    )
    out = io.StringIO()
    call_command("show_delivery", str(publication.pk), stdout=out)
    assert "Belçika İstanbul fuarında" in out.getvalue()
    assert out.getvalue().startswith("{\n  ")
