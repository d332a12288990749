"""Branding: company name, logo and accent colour on the customer pages and in survey emails."""

import re

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEntry
from surveys.branding import contrast_with_white
from surveys.models import Branding

from .factories import InvitationFactory, ProgramFactory

# A real 1×1 PNG (what a browser would upload), and something that only claims to be one.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


def test_contrast_is_the_wcag_ratio():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    assert round(contrast_with_white("#0d6efd"), 2) == 4.5
    assert contrast_with_white("blue") == 0.0


def test_an_admin_brands_the_customer_pages_with_field_errors_for_bad_input(client, admin_user):
    client.force_login(admin_user)
    url = reverse("surveys:branding")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"company_name": "Acme", "accent": "#ffe066"})
    assert "Too light" in str(refused.context["form"].errors["accent"])
    refused = client.post(url, {"company_name": "Acme", "accent": "#123"})
    assert "A colour as #RRGGBB" in str(refused.context["form"].errors["accent"])
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    refused = client.post(url, {"company_name": "Acme", "accent": "#7a1fa2", "logo_file": fake})
    assert refused.context["form"].errors["logo_file"] == ["A logo must be a PNG or JPEG image."]
    big = SimpleUploadedFile("logo.png", PNG + b"\0" * 210_000, content_type="image/png")
    refused = client.post(url, {"company_name": "Acme", "accent": "#7a1fa2", "logo_file": big})
    assert "it can be 200 kB at most" in str(refused.context["form"].errors["logo_file"])
    assert not Branding.objects.exists()

    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    saved = client.post(url, {"company_name": "Acme <Cloud>", "accent": "#7a1fa2", "logo_file": logo})
    assert saved.status_code == 302
    brand = Branding.current()
    assert (brand.company_name, brand.accent, bytes(brand.logo), brand.logo_type) == (
        "Acme <Cloud>", "#7a1fa2", PNG, "image/png"
    )  # fmt: skip
    assert AuditEntry.objects.filter(action="branding.update").exists()

    # The customer's page: the logo (alt text escaped), and the accent through a versioned stylesheet.
    client.logout()
    invitation = InvitationFactory()
    html = client.get(reverse("surveys:answer", args=[invitation.token])).content.decode()
    assert 'alt="Acme &lt;Cloud&gt;"' in html and "<Cloud>" not in html
    css_url = re.search(r'href="(/brand/\d+\.css)"', html).group(1)
    css = client.get(css_url)
    assert css["Content-Type"].startswith("text/css") and "--accent: #7a1fa2" in css.content.decode()
    assert "immutable" in css["Cache-Control"]
    logo_url = re.search(r'src="(/brand/logo/\d+)"', html).group(1)
    served = client.get(logo_url)
    assert served.content == PNG and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"

    # Removing the logo: the name shows instead, and the old logo URL finds nothing.
    client.force_login(admin_user)
    client.post(url, {"company_name": "Acme", "accent": "#7a1fa2", "remove_logo": "on"})
    assert client.get(logo_url).status_code == 404


def test_the_survey_email_carries_the_branding(client, admin_user, django_capture_on_commit_callbacks):
    Branding.objects.create(company_name="Acme Holdings", accent="#7a1fa2", logo=PNG, logo_type="image/png")
    program = ProgramFactory()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("surveys:program_test_send", args=[program.pk]))
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert "border:1px solid #7a1fa2" in html and "#0d6efd" not in html
    assert re.search(r'<img src="http://testserver/brand/logo/\d+" alt="Acme Holdings"', html)
    assert "Acme Holdings" in message.body


def test_without_branding_the_pages_keep_the_defaults(client, db):
    invitation = InvitationFactory()
    html = client.get(reverse("surveys:answer", args=[invitation.token])).content.decode()
    assert "/brand/" not in html and 'class="brand"' not in html
