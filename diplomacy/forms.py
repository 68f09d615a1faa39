from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from diplomacy.credentials import NEEDS_ACCOUNT, CredentialsError, usable_for
from diplomacy.credentials import encrypt as encrypt_credentials
from diplomacy.models import (
    API_CONNECTORS,
    CHANNEL_LANGUAGE_CHECKS,
    POST_ROLES,
    Channel,
    Connector,
    LanguagePlan,
    Partner,
    Platform,
    PlatformDefault,
    Post,
    Role,
    Separator,
    built_in_plan,
    default_plan,
    known_timezones,
    normalise_languages,
    plan_problems,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django_stubs_ext import StrOrPromise

#: An upload larger than this is not a network file (the full network is ~25 kB).
MAX_IMPORT_BYTES = 2 * 1024 * 1024


#: A language plan in one or two words, where a list names several.
PLAN_SHORT_NAMES: dict[str, StrOrPromise] = {
    LanguagePlan.THREAD: _("thread"),
    LanguagePlan.SEPARATE: _("separate posts"),
    LanguagePlan.COMBINED: _("one combined post"),
    LanguagePlan.SINGLE: _("one language"),
}


def current_defaults() -> dict[str, tuple[str, str]]:
    """(plan, separator) a new channel of each platform starts with, in one query: what
    `default_plan` answers for each platform."""
    stored = {row.platform: (row.language_plan, row.separator) for row in PlatformDefault.objects.all()}
    return {
        platform: stored.get(platform, (built_in_plan(platform), Separator.BLANK_LINE))
        for platform in Platform.values
    }


def policy_problems(post: Post, previous: list[str]) -> list[str]:
    """What a change of the post's publishing-language policy would break on its channels,
    one line each naming the channel ([] when nothing): `post` carries the new policy,
    unsaved; `previous` is the policy as stored.

    Every channel must still have a valid plan with the new policy (plan_problems; a
    problem it already had is not the change's doing and does not hold it up), and a
    channel that publishes the post's policy (no languages of its own) must still carry
    every publication planned on it as it was checked (CHANNEL_LANGUAGE_CHECKS, which read
    the policy through channel.post: here the unsaved post).
    """
    policy = post.publishing_language_list
    problems: list[str] = []
    for channel in Channel.objects.filter(post=post).order_by("platform", "handle"):
        channel.post = post
        languages = channel.content_language_list
        before = plan_problems(channel.platform, channel.language_plan, languages, previous)
        after = plan_problems(channel.platform, channel.language_plan, languages, policy)
        found = [problem for name, problem in after.items() if name not in before]
        if not languages and "content_languages" not in after:
            found.extend(problem for check in CHANNEL_LANGUAGE_CHECKS for problem in check(channel))
        problems.extend(
            str(_("%(channel)s: %(problem)s") % {"channel": channel, "problem": problem}) for problem in found
        )
    return problems


class LanguageListField(forms.CharField):
    """Accepts "nl; fr en" and hands the model "nl,fr,en"."""

    def to_python(self, value: str | None) -> str:
        return normalise_languages(super().to_python(value) or "")


class PostForm(forms.ModelForm):
    host_languages = LanguageListField(
        label=_("Host languages"), required=False, help_text=Post._meta.get_field("host_languages").help_text
    )
    publishing_languages = LanguageListField(
        label=_("Publishing-language policy"),
        help_text=Post._meta.get_field("publishing_languages").help_text,
    )

    class Meta:
        model = Post
        fields = [
            "code",
            "kind",
            "name",
            "city",
            "country",
            "timezone",
            "host_languages",
            "publishing_languages",
            "active",
        ]
        widgets = {"timezone": forms.TextInput(attrs={"list": "timezones", "autocomplete": "off"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The code is the post's identity for imports and URLs: fixed once made.
            self.fields["code"].disabled = True
        #: The policy as stored, to know whether a save changes it.
        self._stored_policy = self.instance.publishing_language_list

    def _post_clean(self) -> None:
        """After the model's own checks: a changed publishing-language policy must leave
        every channel of the post able to publish, and every publication planned on the
        channels that publish the policy sendable as it was checked (policy_problems), or
        the person is told what would break, before anything is saved."""
        super()._post_clean()  # type: ignore[misc]  # Django API the stubs do not declare
        if self.errors or self.instance.pk is None:
            return
        if self.instance.publishing_language_list == self._stored_policy:
            return
        problems = policy_problems(self.instance, self._stored_policy)
        if problems:
            shown: list[StrOrPromise] = list(problems[:5])
            if len(problems) > len(shown):
                shown.append(_("…and %(count)s more.") % {"count": len(problems) - len(shown)})
            self.add_error(
                None,
                forms.ValidationError(
                    [
                        _(
                            "With this publishing-language policy, channels of this post would not "
                            "publish as they should. Keep the policy, or change these channels first:"
                        ),
                        *shown,
                    ],
                    code="channels_of_the_post",
                ),
            )

    @staticmethod
    def timezone_choices() -> list[str]:
        return sorted(known_timezones())


class WriteOnlyTextInput(forms.TextInput):
    """Never shows a value, not even the one just typed: credentials are write-only."""

    def format_value(self, value: object) -> None:
        return None


class ChannelForm(forms.ModelForm):
    """A channel, with how it publishes and, for an API connector, its credentials.

    Credentials are write-only: the form never shows them again (only when they were
    stored); left empty they stay as they are. They are bound to the connector and the
    API address they were entered for, so a changed address or connector needs them again
    (a token is not sent to a server nobody entered it for).
    """

    content_languages = LanguageListField(
        label=_("Content languages"),
        required=False,
        help_text=Channel._meta.get_field("content_languages").help_text,
    )
    credential_account = forms.CharField(
        label=_("Account identifier"),
        required=False,
        max_length=200,
        widget=WriteOnlyTextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Facebook: the page id. LinkedIn: the author URN, e.g. urn:li:organization:12345. "
            "Bluesky: the handle (empty: the channel's handle). Not needed for Mastodon and X."
        ),
    )
    credential_secret = forms.CharField(
        label=_("Access token or app password"),
        required=False,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Mastodon, X, LinkedIn: the access token. Facebook: the page access token. "
            "Bluesky: an app password. Leave empty to keep the stored credentials."
        ),
    )
    remove_credentials = forms.BooleanField(label=_("Remove the stored credentials"), required=False)

    REGISTRY_FIELDS = ("platform", "handle", "url", "weekly_target", "active")
    LANGUAGE_FIELDS = ("content_languages", "language_plan", "separator")
    PUBLISHING_FIELDS = (
        "connector",
        "endpoint",
        "credential_account",
        "credential_secret",
        "remove_credentials",
    )

    class Meta:
        model = Channel
        fields = [
            "platform",
            "handle",
            "url",
            "content_languages",
            "language_plan",
            "separator",
            "weekly_target",
            "active",
            "connector",
            "endpoint",
        ]
        widgets = {"language_plan": forms.RadioSelect, "separator": forms.RadioSelect}

    def __init__(self, *args: Any, post: Post, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The post comes from the URL, never from the submitted data: a forged
        # `post` field is ignored.
        self.instance.post = post
        #: The language settings as stored, to know whether a save changes them.
        self._stored_languages = self._language_settings()
        self._set_up_language_fields(post)
        self.fields["weekly_target"].widget.attrs.update({"min": 0, "max": 100})
        # A submission without the field (a script, an older page) keeps the connector.
        self.fields["connector"].required = False
        self.fields["connector"].label = _("Connector")
        self.fields["connector"].help_text = _(
            "An API connector publishes by itself at the publication's time, with the credentials below."
        )
        if not self.instance.has_credentials:
            del self.fields["remove_credentials"]
        #: None: leave the stored credentials; "": forget them; otherwise the new token.
        self.credentials_token: str | None = None

    def _set_up_language_fields(self, post: Post) -> None:
        """The plan and separator: a new channel starts at central's default for its
        platform (known only once the platform is chosen, hence the empty choice); a
        submission without them (a script, an older page) keeps the channel's own."""
        self.fields["content_languages"].help_text = _(
            "The languages this channel publishes, in the order they go out, e.g. fr or tr,en. "
            "Empty: the post's policy (%(policy)s)."
        ) % {"policy": post.publishing_languages or "—"}
        plan = cast("forms.ChoiceField", self.fields["language_plan"])
        separator = cast("forms.ChoiceField", self.fields["separator"])
        plan.label, separator.label = _("Languages go out as"), _("Between two languages")
        plan.required = separator.required = False
        plan.help_text = _(
            "How a publication written in several of this channel's languages is posted. "
            "Threads exist on X, Bluesky, Mastodon and Threads only."
        )
        separator.help_text = _("In one combined post: what stands between two languages.")
        if self.instance.pk is None:
            plan.choices = [("", _("As central set for the platform")), *LanguagePlan.choices]
            separator.choices = [("", _("As central set for the platform")), *Separator.choices]
            self.initial.setdefault("language_plan", "")
            self.initial.setdefault("separator", "")
            plan.help_text = _("%(help)s Central's settings: %(defaults)s.") % {
                "help": plan.help_text,
                "defaults": "; ".join(
                    f"{Platform(platform).label}: {PLAN_SHORT_NAMES[value]}"
                    for platform, (value, _separator) in current_defaults().items()
                ),
            }
        else:
            plan.choices = LanguagePlan.choices
            separator.choices = Separator.choices

    def registry_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.REGISTRY_FIELDS if name in self.fields]

    def language_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.LANGUAGE_FIELDS]

    def publishing_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.PUBLISHING_FIELDS if name in self.fields]

    def clean_connector(self) -> str:
        return self.cleaned_data.get("connector") or self.instance.connector or Connector.MANUAL

    def clean_weekly_target(self) -> int | None:
        value: int | None = self.cleaned_data["weekly_target"]
        if value is not None and value > 100:
            raise forms.ValidationError(_("A weekly target above 100 is not realistic."))
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        platform, handle = cleaned.get("platform"), cleaned.get("handle")
        if platform and handle:
            # The unique constraint includes `post`, which is not a form field,
            # so the ModelForm would not check it: do it here, not as a 500.
            duplicates = Channel.objects.filter(
                post=self.instance.post, platform=platform, handle=handle
            ).exclude(pk=self.instance.pk)
            if duplicates.exists():
                raise forms.ValidationError(_("This post already has this account on this platform."))
        self._clean_language_plan(cleaned)
        self._clean_publishing(cleaned)
        return cleaned

    def _language_settings(self) -> tuple[str, str, str]:
        return (self.instance.content_languages, self.instance.language_plan, self.instance.separator)

    def _post_clean(self) -> None:
        """After the model's own checks: a change of languages, plan or separator must leave
        every publication planned on the channel sendable (CHANNEL_LANGUAGE_CHECKS), or the
        person is told which ones would not fit, before anything is saved."""
        super()._post_clean()  # type: ignore[misc]  # Django API the stubs do not declare
        if self.errors or self.instance.pk is None or self._language_settings() == self._stored_languages:
            return
        problems = [problem for check in CHANNEL_LANGUAGE_CHECKS for problem in check(self.instance)]
        if problems:
            shown = problems[:5]
            if len(problems) > len(shown):
                shown.append(_("…and %(count)s more.") % {"count": len(problems) - len(shown)})
            self.add_error(
                None,
                forms.ValidationError(
                    [
                        _(
                            "With these language settings, publications planned on this channel "
                            "would not go out as they were checked. Change them first, or keep "
                            "the settings:"
                        ),
                        *shown,
                    ],
                    code="planned_publications",
                ),
            )

    def _clean_language_plan(self, cleaned: dict[str, Any]) -> None:
        """Fill an empty plan or separator (central's default for a new channel, the
        channel's own otherwise). plan_problems itself runs in Channel.clean(), which
        the model form calls next; its messages land on language_plan and
        content_languages."""
        platform = cleaned.get("platform")
        if self.instance.pk is not None:
            fallback = (self.instance.language_plan, self.instance.separator)
        elif platform:
            fallback = default_plan(platform)
        else:
            # The missing platform is its own message; the plan is checked once there is
            # one (plan_problems needs a real platform to name).
            cleaned["language_plan"], cleaned["separator"] = LanguagePlan.COMBINED, Separator.BLANK_LINE
            return
        cleaned["language_plan"] = cleaned.get("language_plan") or fallback[0]
        cleaned["separator"] = cleaned.get("separator") or fallback[1]

    def _clean_publishing(self, cleaned: dict[str, Any]) -> None:
        connector, platform = cleaned.get("connector"), cleaned.get("platform")
        if "endpoint" in self.errors or not connector:
            return
        endpoint = cleaned.get("endpoint") or ""
        account = (cleaned.get("credential_account") or "").strip()
        secret = (cleaned.get("credential_secret") or "").strip()
        remove = cleaned.get("remove_credentials", False)
        if connector == Connector.WEBHOOK and not endpoint:
            self.add_error("endpoint", _("The webhook connector needs the address to post to."))
        if connector not in API_CONNECTORS:
            if account or secret:
                self.add_error(
                    "credential_secret",
                    _("Credentials are kept only for an API connector: choose one, or leave them empty."),
                )
            elif remove:
                self.credentials_token = ""
            return
        connector_label = Connector(connector).label
        if platform and API_CONNECTORS[connector] != platform:
            self.add_error(
                "connector",
                _("The %(connector)s connector publishes to %(platform)s channels only.")
                % {"connector": connector_label, "platform": Platform(API_CONNECTORS[connector]).label},
            )
        if connector == Connector.MASTODON and not endpoint:
            self.add_error(
                "endpoint", _("Give the address of the Mastodon server, e.g. https://mastodon.social.")
            )
            return
        stored: dict[str, str] = {}
        unreadable = ""
        if self.instance.has_credentials and not remove:
            try:
                values = self.instance.read_credentials()
            except CredentialsError as exc:
                unreadable = str(exc)
            else:
                if usable_for(values, connector, endpoint):
                    stored = {key: values[key] for key in ("account", "secret") if values.get(key)}
        merged = {
            **stored,
            **({"account": account} if account else {}),
            **({"secret": secret} if secret else {}),
        }
        if not merged.get("secret"):
            message: StrOrPromise
            if unreadable:
                message = unreadable
            elif self.instance.has_credentials and not remove:
                message = _(
                    "The stored credentials were entered for another connector or address: enter them again."
                )
            else:
                message = _("The %(connector)s connector needs credentials: enter them here.") % {
                    "connector": connector_label
                }
            self.add_error("credential_secret", message)
            return
        if NEEDS_ACCOUNT[connector] and not merged.get("account"):
            self.add_error(
                "credential_account",
                _("Give the page id of the Facebook page.")
                if connector == Connector.FACEBOOK
                else _("Give the author URN, e.g. urn:li:organization:12345."),
            )
            return
        if connector == Connector.LINKEDIN and not merged["account"].startswith("urn:li:"):
            self.add_error("credential_account", _("Give the author URN, e.g. urn:li:organization:12345."))
            return
        if merged == stored:
            return  # nothing new: the stored token stays as it is
        try:
            self.credentials_token = encrypt_credentials(
                {"connector": connector, "endpoint": endpoint, **merged}
            )
        except CredentialsError as exc:
            self.add_error("credential_secret", str(exc))

    def save(self, commit: bool = True) -> Channel:
        channel: Channel = super().save(commit=False)
        if self.credentials_token is not None:
            channel.set_credentials_token(self.credentials_token)
        if commit:
            channel.save()
            self.save_m2m()
        return channel


class PlatformDefaultsForm(forms.Form):
    """Central's language plan and separator for new channels, one pair per platform.

    Existing channels keep theirs: a default is where a new channel starts, not a rule.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = {row.platform: (row.language_plan, row.separator) for row in PlatformDefault.objects.all()}
        #: (plan, separator) per platform as they are now: central's, else the built-in one.
        self.current = {
            platform: stored.get(platform, (built_in_plan(platform), Separator.BLANK_LINE))
            for platform in Platform.values
        }
        for platform, label in Platform.choices:
            plan, separator = self.current[platform]
            self.fields[f"plan_{platform}"] = forms.ChoiceField(
                label=_("%(platform)s: languages go out as") % {"platform": label},
                choices=LanguagePlan.choices,
                initial=plan,
            )
            self.fields[f"separator_{platform}"] = forms.ChoiceField(
                label=_("%(platform)s: between two languages") % {"platform": label},
                choices=Separator.choices,
                initial=separator,
            )

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """For the template: (platform label, plan field, separator field) per platform."""
        return [
            (str(label), self[f"plan_{platform}"], self[f"separator_{platform}"])
            for platform, label in Platform.choices
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        for platform in Platform.values:
            plan = self.cleaned_data.get(f"plan_{platform}")
            if not plan:
                continue
            problems = plan_problems(platform, plan, ["xx"], ["xx"])
            if "language_plan" in problems:
                self.add_error(f"plan_{platform}", problems["language_plan"])
        return self.cleaned_data

    def save(self) -> list[str]:
        """Store every platform's choice; return the labels of the platforms that changed."""
        changed = []
        for platform, label in Platform.choices:
            wanted = (self.cleaned_data[f"plan_{platform}"], self.cleaned_data[f"separator_{platform}"])
            if self.current[platform] == wanted:
                continue
            PlatformDefault.objects.update_or_create(
                platform=platform, defaults={"language_plan": wanted[0], "separator": wanted[1]}
            )
            changed.append(str(label))
        return changed


class NetworkImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of posts or channels"),
        help_text=_("UTF-8, comma-separated, with a header row. At most 2 MB."),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        size = upload.size or 0  # None only for a file object that cannot tell
        if size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        if size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    post = forms.ModelChoiceField(
        label=_("Post"),
        queryset=Post.objects.active(),
        required=False,
        empty_label=_("Choose a post"),
        help_text=_("For post editors and post managers."),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.all(),
        required=False,
        empty_label=_("Choose a partner"),
        help_text=_("For partner contributors."),
    )
    language = forms.ChoiceField(label=_("Language of the email"), choices=settings.LANGUAGES)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        role, post, partner = cleaned.get("role"), cleaned.get("post"), cleaned.get("partner")
        if role in POST_ROLES:
            if post is None:
                self.add_error("post", _("Choose the post this person will work for."))
            cleaned["partner"] = None
        elif role == Role.PARTNER_CONTRIBUTOR:
            if partner is None:
                self.add_error("partner", _("Choose the partner this person works for."))
            cleaned["post"] = None
        else:
            cleaned["post"] = cleaned["partner"] = None
        return cleaned


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            from diplomacy.models import User

            try:
                validate_password(p1, User(email=self.email, full_name=cleaned.get("full_name", "")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
