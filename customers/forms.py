from django import forms
from django.conf import settings

from .models import ImportKind


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        help_text="Import accounts first: each contact row names its account's external id. "
        "History: answers keep their dates and open no tasks (formats: docs/samples/).",
    )
    stream = forms.ChoiceField(
        choices=[("relationship", "Relationship"), ("transactional", "Transactional")],
        initial="relationship",
        required=False,
        help_text="Survey history only: the stream its answers count in (a CSV's stream column wins).",
    )
    file = forms.FileField(
        label="File",
        help_text="CSV (UTF-8, comma or semicolon separated, with a header row), or Delighted's JSON; at most 10 MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CUSTOMER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {limit // 1_048_576} MB."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if not upload.name.lower().endswith((".csv", ".txt", ".json")):
            raise forms.ValidationError("Upload a .csv file (or Delighted's .json export).")
        return upload

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload and upload.name.lower().endswith(".json") and data.get("kind") != "delighted":
            self.add_error("file", "Only a Delighted history import takes JSON; choose that kind or a .csv file.")
        return data
