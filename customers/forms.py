from django import forms
from django.conf import settings

from .models import ImportKind


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        help_text="Import accounts first: each contact row names its account's external id.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma or semicolon separated, with a header row; at most 10 MB.",
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
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Upload a .csv file.")
        return upload
