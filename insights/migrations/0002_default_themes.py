from django.db import migrations

THEMES = {
    "Product": "feature\nfeatures\nproduct\nfunctionality\nroadmap\nintegration\nintegrations\nmissing",
    "Support": "support\nhelpdesk\nticket\ntickets\nresponse time\nanswered\nhelpful\nagent",
    "Pricing": "price\npricing\nexpensive\ncost\ncosts\ncheap\nvalue for money\nrenewal",
    "Onboarding": "onboarding\nsetup\nset up\nimplementation\ntraining\ngetting started",
    "Performance": "slow\nfast\nspeed\nperformance\nlag\ntimeout\ntiming out\ndowntime\noutage\nreliable",
    "Usability": "easy\nhard to use\nintuitive\nconfusing\nusability\ninterface\nui\nux\nclunky",
    "Billing": "billing\ninvoice\ninvoices\ncharged\ncharge\npayment\nrefund",
    "Documentation": "documentation\ndocs\nguide\nguides\nhelp center\nknowledge base",
}


def seed(apps, schema_editor):
    Theme = apps.get_model("insights", "Theme")
    for name, keywords in THEMES.items():
        Theme.objects.get_or_create(name=name, defaults={"keywords": keywords})


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
