"""CSV import of accounts and contacts."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.importing import FileRefused, import_customers
from customers.models import Account, Contact, ImportJob, Segment

ACCOUNTS_CSV = (
    "External ID,Name,Segment,Plan Tier,ARR,Employee Count,Renewal Date,CSM Email,Team,Health Score\n"
    "A-1,Acme,SMB,Starter,12000,40,2027-01-31,csm@example.com,North,88\n"
    'A-2,Globex,mid-market,Growth,"90,000",400,2027-03-01,,North,71\n'
    "A-3,Initech,Enterprise,Enterprise,450000,5000,,,,\n"
)


@pytest.fixture
def staff(csm, team):
    return csm


def test_good_file_creates_accounts_with_custom_properties(staff):
    result = import_customers(kind="accounts", data=ACCOUNTS_CSV.encode())
    assert (result.total, result.created, result.updated, result.error_count) == (3, 3, 0, 0)
    acme = Account.objects.get(external_id="A-1")
    assert acme.segment == Segment.SMB
    assert acme.csm == staff
    assert acme.team.name == "North"
    assert str(acme.renewal_date) == "2027-01-31"
    assert acme.properties == {"Health Score": "88"}
    assert Account.objects.get(external_id="A-2").segment == Segment.MID_MARKET
    assert Account.objects.get(external_id="A-2").arr == 90000


def test_reimporting_the_same_file_changes_nothing(staff):
    import_customers(kind="accounts", data=ACCOUNTS_CSV.encode())
    before = list(Account.objects.order_by("pk").values())
    result = import_customers(kind="accounts", data=ACCOUNTS_CSV.encode())
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(Account.objects.order_by("pk").values()) == before


def test_a_changed_row_is_updated_in_place(staff):
    import_customers(kind="accounts", data=ACCOUNTS_CSV.encode())
    changed = ACCOUNTS_CSV.replace("A-1,Acme,SMB,Starter", "A-1,Acme Corp,SMB,Business")
    result = import_customers(kind="accounts", data=changed.encode())
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    acme = Account.objects.get(external_id="A-1")
    assert (acme.name, acme.plan_tier) == ("Acme Corp", "Business")


def test_bad_rows_are_reported_by_line_and_good_rows_kept(staff):
    data = (
        "external_id,name,segment,arr,renewal_date,csm_email\n"
        "B-1,Good One,SMB,100,2027-01-01,\n"
        "B-2,Bad Segment,Huge,100,,\n"
        ",No Id,SMB,,,\n"
        "B-4,Bad Date,SMB,,31/12/2026,\n"
        "B-5,Bad Money,SMB,lots,,\n"
        "B-6,Unknown CSM,SMB,,,nobody@example.com\n"
        "B-1,Duplicate,SMB,,,\n"
        "B-8,Short row\n"
        "B-9,Good Two,Enterprise,5,,\n"
    )
    result = import_customers(kind="accounts", data=data.encode())
    assert result.created == 2
    assert set(Account.objects.values_list("external_id", flat=True)) == {"B-1", "B-9"}
    lines = {e["line"]: e["reason"] for e in result.errors}
    assert set(lines) == {3, 4, 5, 6, 7, 8, 9}
    assert "segment 'Huge'" in lines[3]
    assert "external_id is required" in lines[4]
    assert "YYYY-MM-DD" in lines[5]
    assert "not a number" in lines[6]
    assert "not a staff user" in lines[7]
    assert "already appears on line 2" in lines[8]
    assert "expected 6 values" in lines[9]


def test_line_numbers_count_quoted_newlines(staff):
    data = 'external_id,name,segment\nC-1,"Two\nLines",SMB\nC-2,Bad,Nope\n'
    result = import_customers(kind="accounts", data=data.encode())
    assert result.errors == [{"line": 4, "reason": "segment 'Nope' is not one of SMB, Mid-Market, Enterprise"}]


def test_contacts_upsert_by_email_and_need_their_account(account):
    data = (
        "Email,Account External ID,Name,Decision Maker,Favourite Colour\n"
        f"Ann@Example.com,{account.external_id},Ann,yes,blue\n"
        "bob@example.com,NOPE,Bob,no,\n"
        "not-an-email,{0},X,no,\n"
        f"cy@example.com,{account.external_id},Cy,perhaps,\n"
    ).replace("{0}", account.external_id)
    result = import_customers(kind="contacts", data=data.encode())
    assert result.created == 1
    ann = Contact.objects.get(email="ann@example.com")
    assert ann.decision_maker is True
    assert ann.properties == {"Favourite Colour": "blue"}
    reasons = {e["line"]: e["reason"] for e in result.errors}
    assert "does not match any account" in reasons[3]
    assert "not a valid address" in reasons[4]
    assert "not yes or no" in reasons[5]
    again = import_customers(kind="contacts", data=data.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_import_never_undoes_an_unsubscribe(contact):
    contact.unsubscribed_at = "2026-01-01T00:00:00Z"
    contact.save()
    data = f"email,account_external_id,unsubscribed\n{contact.email},{contact.account.external_id},no\n"
    import_customers(kind="contacts", data=data.encode())
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("external_id,name\nA,Caf\xe9\n".encode("latin-1"), "not UTF-8 text (the first unreadable byte is on line 2)"),
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        (b"name,segment\nAcme,SMB\n", "Missing required column(s): external_id. Columns found: name, segment."),
        (b"external_id,name,Name\n1,a,b\n", "Column(s) appear more than once: name."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    ],
)
def test_an_unreadable_file_is_refused_whole(db, data, message):
    with pytest.raises(FileRefused, match=None) as refused:
        import_customers(kind="accounts", data=data)
    assert message in str(refused.value)
    assert Account.objects.count() == 0


def test_too_big_and_too_many_rows_are_refused(db, settings):
    settings.CUSTOMER_IMPORT_MAX_BYTES = 1000
    with pytest.raises(FileRefused, match="the limit is 0 MB|limit"):
        import_customers(kind="accounts", data=b"external_id,name\n" + b"x,y\n" * 400)
    settings.CUSTOMER_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    settings.CUSTOMER_IMPORT_MAX_ROWS = 100
    with pytest.raises(FileRefused, match="more than 100 rows"):
        import_customers(kind="accounts", data=b"external_id,name\n" + b"".join(b"%d,y\n" % i for i in range(101)))
    assert Account.objects.count() == 0


def test_a_million_row_file_gets_a_clear_message(db):
    data = b"external_id,name\n" + b"1,a\n" * 1_000_000
    with pytest.raises(FileRefused) as refused:
        import_customers(kind="accounts", data=data)
    assert "limit is 10 MB" in str(refused.value) or "rows" in str(refused.value)


def test_semicolon_separated_files_work(staff):
    result = import_customers(kind="accounts", data=b"external_id;name;segment\nS-1;Semi;SMB\n")
    assert result.created == 1


def test_upload_page_runs_the_import_and_reports(client, admin_user, team, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("accounts.csv", b"external_id,name,segment\nU-1,Up,SMB\nU-2,Down,Nope\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:import_list"), {"kind": "accounts", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customers:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    page = client.get(response.url).content.decode()
    assert "1 row with errors" in page
    assert "segment &#x27;Nope&#x27;" in page
    progress = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert progress.startswith('<div id="import-progress"')


def test_upload_page_refuses_bad_files_with_field_errors(client, admin_user, settings):
    client.force_login(admin_user)
    settings.CUSTOMER_IMPORT_MAX_BYTES = 10
    response = client.post(
        reverse("customers:import_list"),
        {"kind": "accounts", "file": SimpleUploadedFile("a.csv", b"external_id,name\n1,2\n")},
    )
    assert response.status_code == 200
    assert "the limit is 0 MB" in response.content.decode()
    response = client.post(
        reverse("customers:import_list"), {"kind": "people", "file": SimpleUploadedFile("a.png", b"x")}
    )
    assert "Select a valid choice" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_refused_file_shows_why_on_the_job_page(client, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("bad.csv", "external_id,name\nA,Caf\xe9\n".encode("latin-1"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:import_list"), {"kind": "accounts", "file": upload})
    response = client.get(response.url)
    assert "The file was refused and nothing was imported" in response.content.decode()
    assert ImportJob.objects.get().status == "failed"


def test_management_command(tmp_path: Path, staff, capsys):
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS_CSV + "A-4,Bad,Huge,,,,,,,\n")
    call_command("import_customers", "accounts", str(path))
    out = capsys.readouterr().out
    assert "4 rows: 3 created, 0 updated, 0 unchanged, 1 with errors." in out
    assert "line 5: segment 'Huge'" in out
    path.write_bytes(b"name\nx\n")
    with pytest.raises(CommandError, match="Missing required column"):
        call_command("import_customers", "accounts", str(path))


# RFC 4180: one test per case the reader must get right ---------------------------------------------


@pytest.mark.django_db
def test_doubled_quotes_inside_a_quoted_value(staff):
    result = import_customers(kind="accounts", data=b'external_id,name\nA-1,"Smith, ""Bob"" & Co"\n')
    assert result.error_count == 0
    assert Account.objects.get(external_id="A-1").name == 'Smith, "Bob" & Co'


@pytest.mark.django_db
def test_a_line_break_inside_a_quoted_value(staff):
    result = import_customers(kind="accounts", data=b'external_id,name,notes\nA-1,"Two\nlines",x\nA-2,Next,y\n')
    assert result.error_count == 0
    assert Account.objects.get(external_id="A-1").name == "Two\nlines"
    assert Account.objects.get(external_id="A-2").name == "Next"


@pytest.mark.django_db
def test_a_byte_order_mark_and_crlf_line_ends(staff):
    data = '\ufeffexternal_id,name\r\nA-1,Crlf Corp\r\nA-2,"Quoted, Inc"\r\n'.encode()
    result = import_customers(kind="accounts", data=data)
    assert result.error_count == 0
    assert dict(Account.objects.values_list("external_id", "name")) == {"A-1": "Crlf Corp", "A-2": "Quoted, Inc"}


@pytest.mark.django_db
def test_semicolons_from_a_european_spreadsheet(staff):
    result = import_customers(kind="accounts", data='external_id;name\nA-1;"Müller; Söhne ""GmbH"""\n'.encode())
    assert result.error_count == 0
    assert Account.objects.get(external_id="A-1").name == 'Müller; Söhne "GmbH"'


def test_a_large_import_refreshes_the_planner_statistics(db, monkeypatch):
    """A wave planned right after a big import must not run on the statistics of empty tables."""
    from django.db import connection

    from config import db as config_db
    from customers import services

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statistics")

    def estimated_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Contact._meta.db_table])
            return cursor.fetchone()[0]

    monkeypatch.setattr(config_db, "ANALYZE_AFTER_ROWS", 3)  # a large import, in miniature
    small = "external_id,name\nA-1,Acme\n"
    import_customers(kind="accounts", data=small.encode())
    rows = "email,account_external_id\n" + "".join(f"p{n}@example.com,A-1\n" for n in range(2))
    job = services.import_job_create(
        kind="contacts", upload=SimpleUploadedFile("c.csv", rows.encode()), user=None, options={}
    )
    services.import_job_run(job.pk)
    assert estimated_rows() != 2  # two rows written: under the threshold, left to autovacuum
    rows = "email,account_external_id\n" + "".join(f"q{n}@example.com,A-1\n" for n in range(3))
    job = services.import_job_create(
        kind="contacts", upload=SimpleUploadedFile("c.csv", rows.encode()), user=None, options={}
    )
    services.import_job_run(job.pk)
    assert estimated_rows() == 5  # ANALYZE ran: the planner knows the table's size
