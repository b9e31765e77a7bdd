"""Forms of the training pages and the admin."""

from django import forms

from training.evidence import promotion_reason_needed
from training.models import ModelVersion

REASON_MAX_LENGTH = 500  # ChampionChange.reason


class PromoteForm(forms.Form):
    """Why a version is promoted by hand. The reason is required when the evidence does not back the version
    (training.evidence.promotion_reason_needed); otherwise a blank one becomes `default_reason`."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the champion history.",
    )

    def __init__(self, *args, version: ModelVersion, default_reason: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_reason = default_reason
        self.reason_needed = promotion_reason_needed(version)
        field = self.fields["reason"]
        if self.reason_needed:
            field.required = True
            field.error_messages["required"] = self.reason_needed
            field.help_text = (
                "Required: the evidence does not show this version beats naive. Recorded in the champion history."
            )
        else:
            field.initial = default_reason

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"] or self.default_reason
