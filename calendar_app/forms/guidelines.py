"""Central's settings of one guideline rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app import guidelines, workflow
from calendar_app.models import Guideline, GuidelineVersion, PublicationKind
from diplomacy.models import Platform, PostKind, User


class GuidelineForm(forms.Form):
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=guidelines.SEVERITIES)
    post_kinds = forms.MultipleChoiceField(
        label=_("Only for these kinds of post"),
        choices=PostKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every post."),
    )
    platforms = forms.MultipleChoiceField(
        label=_("Only for these platforms"),
        choices=Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every platform."),
    )
    publication_kinds = forms.MultipleChoiceField(
        label=_("Only for these kinds of publication"),
        choices=PublicationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind (with the rule's own exemptions)."),
    )
    explanation_en = forms.CharField(
        label=_("Explanation in English"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    explanation_nl = forms.CharField(
        label=_("Explanation in Dutch"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    explanation_fr = forms.CharField(
        label=_("Explanation in French"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, code: str, **kwargs: Any) -> None:
        self.rule = guidelines.RULES[code]
        self.row = Guideline.objects.filter(code=code).first()
        super().__init__(*args, **kwargs)
        for name, default in self.rule.params.items():
            field_name = f"param_{name}"
            if (code, name) in guidelines.INTEGER_PARAMS:
                self.fields[field_name] = forms.IntegerField(label=name, min_value=0, max_value=24 * 365)
            elif isinstance(default, bool):
                self.fields[field_name] = forms.BooleanField(label=name, required=False)
            else:
                self.fields[field_name] = forms.CharField(label=name, required=False, max_length=2000)
            self.fields[field_name].label = PARAM_LABELS.get(name, name)
        configured = next(c for c in guidelines.configured_rules() if c.code == code)
        if not self.is_bound:
            self.initial.update(
                {
                    "enabled": configured.enabled,
                    "severity": configured.severity,
                    "post_kinds": configured.post_kinds,
                    "platforms": configured.platforms,
                    "publication_kinds": configured.publication_kinds,
                    **{
                        f"explanation_{lang}": (self.row.explanations.get(lang, "") if self.row else "")
                        for lang in ("en", "nl", "fr")
                    },
                    **{f"param_{name}": value for name, value in configured.params.items()},
                }
            )

    def save(self, actor: User) -> GuidelineVersion:
        """Central's change, as a new version of the guidelines (workflow.change_guideline)."""
        data = self.cleaned_data
        values = {
            "enabled": data["enabled"],
            "severity": data["severity"],
            "post_kinds": ",".join(data["post_kinds"]),
            "platforms": ",".join(data["platforms"]),
            "publication_kinds": ",".join(data["publication_kinds"]),
            "params": {name: data[f"param_{name}"] for name in self.rule.params},
            "explanations": {
                lang: data[f"explanation_{lang}"]
                for lang in ("en", "nl", "fr")
                if data[f"explanation_{lang}"]
            },
        }
        return workflow.change_guideline(actor, self.rule.code, values)


PARAM_LABELS = {
    "hours": _("Hours before the publication time"),
    "advisory_languages": _("Languages of consular advice and crisis advisories"),
    "follow_post_policy": _("Other publications follow the post's language policy"),
    "terms": _("Watch list (comma-separated)"),
}
