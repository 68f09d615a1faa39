from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from diplomacy.models import (
    POST_ROLES,
    Channel,
    Partner,
    Post,
    Role,
    known_timezones,
    normalise_languages,
)

#: An upload larger than this is not a network file (the full network is ~25 kB).
MAX_IMPORT_BYTES = 2 * 1024 * 1024


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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The code is the post's identity for imports and URLs: fixed once made.
            self.fields["code"].disabled = True

    @staticmethod
    def timezone_choices() -> list[str]:
        return sorted(known_timezones())


class ChannelForm(forms.ModelForm):
    content_languages = LanguageListField(
        label=_("Content languages"),
        required=False,
        help_text=Channel._meta.get_field("content_languages").help_text,
    )

    class Meta:
        model = Channel
        fields = ["platform", "handle", "url", "content_languages", "weekly_target", "active"]

    def __init__(self, *args, post: Post, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The post comes from the URL, never from the submitted data: a forged
        # `post` field is ignored.
        self.instance.post = post
        self.fields["weekly_target"].widget.attrs.update({"min": 0, "max": 100})

    def clean_weekly_target(self) -> int:
        value = self.cleaned_data["weekly_target"]
        if value is not None and value > 100:
            raise forms.ValidationError(_("A weekly target above 100 is not realistic."))
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        platform, handle = cleaned.get("platform"), cleaned.get("handle")
        if platform and handle:
            # The unique constraint includes `post`, which is not a form field,
            # so the ModelForm would not check it: do it here, not as a 500.
            duplicates = Channel.objects.filter(
                post=self.instance.post, platform=platform, handle=handle
            ).exclude(pk=self.instance.pk)
            if duplicates.exists():
                raise forms.ValidationError(_("This post already has this account on this platform."))
        return cleaned


class NetworkImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of posts or channels"),
        help_text=_("UTF-8, comma-separated, with a header row. At most 2 MB."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        if upload.size == 0:
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
        help_text=_("For post editors and post managers."),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.all(),
        required=False,
        help_text=_("For partner contributors."),
    )
    language = forms.ChoiceField(label=_("Language of the email"), choices=settings.LANGUAGES)

    def clean(self) -> dict:
        cleaned = super().clean()
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

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
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
