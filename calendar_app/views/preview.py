"""The editor's live preview: each ticked channel's posts drawn as its platform shows them.

The posts come from calendar_app.sending (through views.publications.channels_shown), the
one answer to what a channel sends; this module only cuts their text into the pieces a
platform draws differently (links, hashtags, mentions) and names the account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from calendar_app import counting, permissions
from calendar_app.forms import PublicationForm
from calendar_app.forms.publications import channel_plan_attribute
from calendar_app.models import Asset, Publication, is_whole_number
from calendar_app.views.publications import ChannelShown, PartShown, channels_shown
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Post

#: The posts drawn for one channel: a text long enough for hundreds of posts would cost seconds
#: to draw and is no preview anyone reads; the rest are counted ("and 12 more posts").
PREVIEW_PARTS = 25

#: A hashtag or a mention (@name, or @name@server as on Mastodon), not glued to a word.
_TAG_RE = re.compile(r"(?<![\w&/#@])(?:#\w+|@\w+(?:[.-]\w+)*(?:@[\w-]+(?:\.[\w-]+)+)?)")


@dataclass(frozen=True)
class Piece:
    """A run of a post's text: plain text, or a link, hashtag or mention drawn as a link."""

    text: str
    kind: str = ""  # "", "link", "hashtag", "mention"


def text_pieces(text: str) -> list[Piece]:
    """`text` cut into plain runs and the links (as counting.URL_RE finds them, the links
    the platforms count as links), hashtags and mentions a platform draws as links."""
    pieces: list[Piece] = []
    start = 0
    for match in counting.URL_RE.finditer(text):
        pieces.extend(_tag_pieces(text[start : match.start()]))
        pieces.append(Piece(match.group(), "link"))
        start = match.end()
    pieces.extend(_tag_pieces(text[start:]))
    return [piece for piece in pieces if piece.text]


def _tag_pieces(text: str) -> list[Piece]:
    pieces: list[Piece] = []
    start = 0
    for match in _TAG_RE.finditer(text):
        pieces.append(Piece(text[start : match.start()]))
        kind = "hashtag" if match.group().startswith("#") else "mention"
        pieces.append(Piece(match.group(), kind))
        start = match.end()
    pieces.append(Piece(text[start:]))
    return pieces


def initials(channel: Channel) -> str:
    """Two letters for the avatar drawn in CSS: the capitals of the handle ("@BelgiumInIstanbul"
    gives "BI"), else its first letters."""
    name = channel.handle.lstrip("@") or channel.post.name
    capitals = [char for char in name if char.isupper()]
    letters = capitals if len(capitals) >= 2 else [char for char in name if char.isalnum()]
    return "".join(letters[:2]).upper() or "?"


@dataclass(frozen=True)
class PartPreview:
    shown: PartShown
    pieces: list[Piece]
    #: Images of this post not stored yet (the file chosen in the editor), drawn by the page.
    new_images: int


@dataclass(frozen=True)
class ChannelPreview:
    sent: ChannelShown
    initials: str
    name: str
    parts: list[PartPreview]
    #: "and 12 more posts" when the channel sends more than PREVIEW_PARTS, else "".
    more: str
    #: The channel's plan now, for the counters (editor.js): a plan changed meanwhile is counted as sent.
    plan_attribute: str


def channel_previews(sends: list[ChannelShown]) -> list[ChannelPreview]:
    return [
        ChannelPreview(
            sent=sent,
            initials=initials(sent.channel),
            name=sent.channel.post.name,
            plan_attribute=channel_plan_attribute(sent.channel),
            parts=[
                PartPreview(
                    shown=shown,
                    pieces=text_pieces(shown.part.text),
                    new_images=max(0, shown.part.images - len(shown.images)),
                )
                for shown in sent.parts[:PREVIEW_PARTS]
            ],
            more=_more_posts(len(sent.parts) - PREVIEW_PARTS),
        )
        for sent in sends
    ]


def _more_posts(count: int) -> str:
    if count <= 0:
        return ""
    return ngettext("and %(count)d more post", "and %(count)d more posts", count) % {"count": count}


def editor_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required for the editor's live requests (preview, check): an HTMX request whose
    session has ended gets a 401 with a short message for the editor's status line, not the
    login page (which htmx would draw inside the preview). The text stays on the device
    (static/js/drafts.js)."""
    protected = login_required(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated and getattr(request, "htmx", False):
            message = _(
                "Your session has ended. Your text is kept on this device: sign in again "
                "(in another tab) and come back."
            )
            return HttpResponse(format_html('<p class="session-ended">{}</p>', message), status=401)
        return protected(request, *args, **kwargs)

    return wrapped


def too_long(form: PublicationForm) -> HttpResponse | None:
    """A 400 with a short message when a typed text is longer than the form accepts (the
    language's text field's max_length, for a platform's text too): the preview draws only
    texts the form could save, so its cost stays bounded."""
    for name, value in form.data.items():
        if not name.startswith("variant_") or not isinstance(value, str):
            continue
        # A platform's own text has no limit of its own: the language's text's applies.
        limit = getattr(form.fields.get(name), "max_length", None) or getattr(
            form.fields.get(name.split("__")[0]), "max_length", None
        )
        if limit is not None and len(value) > limit:
            message = _("This text is too long: at most %(limit)s characters.") % {
                "limit": number_format(limit, force_grouping=True),
            }
            return HttpResponse(
                format_html('<p class="preview-refused" role="alert">{}</p>', message), status=400
            )
    return None


def _shown_assets(request: AuthenticatedHttpRequest) -> list[Asset]:
    """The saved images the publication keeps (those not ticked for removal)."""
    if not is_whole_number(request.POST.get("publication", "")):
        return []
    publication = (
        Publication.objects.select_related("post").filter(pk=int(request.POST["publication"])).first()
    )
    if publication is None or not permissions.can_view_publication(request.user, publication):
        return []
    removed = set(request.POST.getlist("remove_asset"))
    return [asset for asset in publication.assets.order_by("pk") if str(asset.pk) not in removed]


def _new_image(request: HttpRequest) -> int:
    """1 when the writer chose an image not uploaded yet (the editor's script says so)."""
    return 1 if request.POST.get("new_image") == "1" else 0


@editor_login_required
@require_POST
def publication_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The editor's live preview (HTMX): the unsaved texts as each ticked channel sends them,
    from the channels as they are now (a plan changed meanwhile shows at once)."""
    post = get_object_or_404(Post, code=request.POST.get("post", ""))
    if not permissions.can_create_publication(request.user, post):
        raise PermissionDenied
    form = PublicationForm(request.POST, post=post)
    refused = too_long(form)
    if refused is not None:
        return refused
    texts, overrides = form.typed_texts()
    chosen = {int(pk) for pk in request.POST.getlist("channels") if is_whole_number(pk)}
    # The post's active channels: one made inactive meanwhile is no longer previewed.
    channels = [channel for channel in form.fields["channels"].queryset if channel.pk in chosen]  # type: ignore[attr-defined]
    assets = _shown_assets(request)
    sends = channels_shown(
        channels, texts, overrides, images=len(assets) + _new_image(request), assets=assets
    )
    return render(request, "calendar_app/_preview.html", {"previews": channel_previews(sends)})
