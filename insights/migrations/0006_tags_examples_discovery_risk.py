"""Theme tags say why (the plain many-to-many table grows two columns and becomes insights.Tag);
theme examples, theme discovery and the detractor-risk model; German keywords for the seeded themes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The seeded themes (0002) in German too, added only where an Admin has not edited the keywords.
SEEDED = {
    "Product": "feature\nfeatures\nproduct\nfunctionality\nroadmap\nintegration\nintegrations\nmissing",
    "Support": "support\nhelpdesk\nticket\ntickets\nresponse time\nanswered\nhelpful\nagent",
    "Pricing": "price\npricing\nexpensive\ncost\ncosts\ncheap\nvalue for money\nrenewal",
    "Onboarding": "onboarding\nsetup\nset up\nimplementation\ntraining\ngetting started",
    "Performance": "slow\nfast\nspeed\nperformance\nlag\ntimeout\ntiming out\ndowntime\noutage\nreliable",
    "Usability": "easy\nhard to use\nintuitive\nconfusing\nusability\ninterface\nui\nux\nclunky",
    "Billing": "billing\ninvoice\ninvoices\ncharged\ncharge\npayment\nrefund",
    "Documentation": "documentation\ndocs\nguide\nguides\nhelp center\nknowledge base",
}
GERMAN = {
    "Product": "funktion\nfunktionen\nprodukt\nschnittstelle\nintegration\nfehlt",
    "Support": "kundendienst\nhelpdesk\nticket\nantwortzeit\nhilfsbereit\nsupportmitarbeiter",
    "Pricing": "preis\npreise\nteuer\nkosten\ngünstig\nbillig\nverlängerung\nüberteuert",
    "Onboarding": "einrichtung\neinführung\nimplementierung\nschulung\neinstieg",
    "Performance": "langsam\nschnell\ngeschwindigkeit\nausfall\nausfälle\nzeitüberschreitung\nzuverlässig\nverzögerung",
    "Usability": "einfach\nintuitiv\numständlich\nverwirrend\nbedienen\noberfläche\nbenutzerfreundlich",
    "Billing": "rechnung\nabrechnung\nzahlung\nabgebucht\nerstattung\ngebühr",
    "Documentation": "dokumentation\ndoku\nanleitung\nanleitungen\nhilfe-center\nwissensdatenbank\nhilfeartikel",
}


def add_german(apps, schema_editor):
    Theme = apps.get_model("insights", "Theme")
    for name, keywords in SEEDED.items():
        Theme.objects.filter(name=name, keywords=keywords).update(keywords=f"{keywords}\n{GERMAN[name]}")


def drop_german(apps, schema_editor):
    Theme = apps.get_model("insights", "Theme")
    for name, keywords in SEEDED.items():
        Theme.objects.filter(name=name, keywords=f"{keywords}\n{GERMAN[name]}").update(keywords=keywords)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("insights", "0005_rebuild_rollups_for_survey_channel"),
        ("surveys", "0017_response_sentiment"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Tag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "theme",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="tags", to="insights.theme"
                            ),
                        ),
                        (
                            "response",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="tags", to="surveys.response"
                            ),
                        ),
                    ],
                    options={"db_table": "insights_theme_responses", "unique_together": {("theme", "response")}},
                ),
                migrations.AlterField(
                    model_name="theme",
                    name="responses",
                    field=models.ManyToManyField(
                        blank=True, related_name="themes", through="insights.Tag", to="surveys.response"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="tag",
            name="how",
            field=models.CharField(
                choices=[("keyword", "Keyword"), ("similar", "Like its examples"), ("manual", "Set by hand")],
                default="keyword",
                max_length=8,
            ),
        ),
        migrations.AddField(model_name="tag", name="why", field=models.JSONField(blank=True, default=dict)),
        migrations.RunPython(add_german, drop_german),
    ]
