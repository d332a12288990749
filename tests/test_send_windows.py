"""Recipient-local send windows, spread waves and caps that defer (issue 15, items 1 and 2), with time travel."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from outbox.models import OutgoingEmail
from surveys import windows
from surveys.models import Invitation
from surveys.services import event_record, invitations_prepare_due, wave_create

from .factories import AccountFactory, ContactFactory, ProgramFactory, TransactionalProgramFactory

BERLIN, SYDNEY, NEW_YORK = (zoneinfo.ZoneInfo(z) for z in ("Europe/Berlin", "Australia/Sydney", "America/New_York"))
TUE_TO_THU_9_11 = {"send_days": [1, 2, 3], "window_start_hour": 9, "window_end_hour": 11}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_recipient_zone_is_the_contacts_then_the_regions_then_the_programs():
    assert windows.recipient_zone("Asia/Tokyo", "EMEA", "UTC").key == "Asia/Tokyo"
    assert windows.recipient_zone("", "emea", "UTC").key == "Europe/Berlin"  # REGION_TIME_ZONES, any case
    assert windows.recipient_zone("", "America/Chicago", "UTC").key == "America/Chicago"  # a region named as a zone
    assert windows.recipient_zone("Not/AZone", "Atlantis", "America/New_York").key == "America/New_York"
    assert windows.recipient_zone("", "", "").key == "UTC"


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # Berlin: clocks go forward on Sunday 28 March 2027. 09:00 is 08:00 UTC before, 07:00 UTC after.
        (BERLIN, utc(2027, 3, 22), [utc(2027, 3, 23, 8), utc(2027, 3, 24, 8), utc(2027, 3, 25, 8),
                                    utc(2027, 3, 30, 7)]),
        # Sydney: clocks go back on Sunday 4 April 2027 (southern autumn). 09:00 is 22:00 UTC the day before
        # (AEDT, +11) and 23:00 UTC after (AEST, +10).
        (SYDNEY, utc(2027, 3, 28), [utc(2027, 3, 29, 22), utc(2027, 3, 30, 22), utc(2027, 3, 31, 22),
                                    utc(2027, 4, 5, 23)]),
        # New York: clocks go back on Sunday 7 November 2027.
        (NEW_YORK, utc(2027, 11, 1), [utc(2027, 11, 2, 13), utc(2027, 11, 3, 13), utc(2027, 11, 4, 13),
                                      utc(2027, 11, 9, 14)]),
    ],
    ids=["Berlin spring", "Sydney autumn", "New York autumn"],
)  # fmt: skip
def test_windows_are_local_hours_across_daylight_saving_changes(db, zone, start, expected):
    program = ProgramFactory(**TUE_TO_THU_9_11)
    opened = [w[0] for _, w in zip(range(4), windows.windows(program, zone, start), strict=False)]
    assert opened == expected
    for opens in opened:
        local = opens.astimezone(zone)
        assert (local.hour, local.minute, local.weekday() in (1, 2, 3)) == (9, 0, True)


def test_a_window_already_open_sends_now_and_a_closed_one_waits(db):
    program = ProgramFactory(**TUE_TO_THU_9_11)
    inside = utc(2027, 3, 23, 9, 30)  # Tuesday 10:30 in Berlin
    assert windows.next_window(program, BERLIN, inside) == inside
    assert windows.next_window(program, BERLIN, utc(2027, 3, 23, 10, 30)) == utc(2027, 3, 24, 8)  # 11:30: tomorrow
    assert windows.next_window(ProgramFactory(), BERLIN, inside) == inside  # no window: any time


def test_a_wave_goes_out_in_each_recipients_morning(db):
    program = ProgramFactory(timezone="America/New_York", **TUE_TO_THU_9_11)
    berlin = ContactFactory(email="b@example.com", timezone="Europe/Berlin")
    sydney = ContactFactory(email="s@example.com", account=AccountFactory(region="ANZ"))
    fallback = ContactFactory(email="n@example.com", account=AccountFactory(region=""))
    monday = utc(2027, 3, 29, 12)
    wave = wave_create(program=program, period="2027-Q2", scheduled_at=monday, now=monday)
    sent_at = {i.contact_id: i.send_at for i in wave.invitations.all()}
    for contact, zone in ((berlin, BERLIN), (sydney, SYDNEY), (fallback, NEW_YORK)):
        local = sent_at[contact.pk].astimezone(zone)
        assert (local.date().isoformat(), 9 <= local.hour < 11) == ("2027-03-30", True), (zone, local)
    # Time travel: nothing goes before its recipient's window; each goes once it opens.
    assert invitations_prepare_due(utc(2027, 3, 29, 21)) == 0  # Monday evening UTC: nobody's window yet
    assert invitations_prepare_due(utc(2027, 3, 30, 0)) == 1  # Sydney's Tuesday morning
    assert invitations_prepare_due(utc(2027, 3, 30, 9)) == 1  # Berlin's
    assert invitations_prepare_due(utc(2027, 3, 30, 15)) == 1  # New York's
    assert sorted(OutgoingEmail.objects.values_list("to", flat=True)) == sorted(
        ["b@example.com", "s@example.com", "n@example.com"]
    )


def test_a_spread_wave_goes_out_evenly_over_its_send_days_and_the_wave_page_says_when(db, client, admin_user):
    program = ProgramFactory(timezone="UTC", spread_days=3, window_start_hour=9, window_end_hour=17)
    account = AccountFactory(region="UTC")
    for n in range(30):
        ContactFactory(email=f"c{n}@example.com", account=account)
    start = utc(2027, 5, 3, 6)  # a Monday, before the window
    wave = wave_create(program=program, period="2027-Q2", scheduled_at=start, now=start)
    days = sorted({i.send_at.date().isoformat() for i in wave.invitations.all()})
    assert days == ["2027-05-03", "2027-05-04", "2027-05-05"]
    per_day = [wave.invitations.filter(send_at__date=d).count() for d in days]
    assert per_day == [10, 10, 10]
    first_day = sorted(i.send_at for i in wave.invitations.filter(send_at__date=days[0]))
    assert first_day[0] == utc(2027, 5, 3, 9) and first_day[-1] < utc(2027, 5, 3, 17)  # spread over the window
    assert first_day[1] - first_day[0] == timedelta(minutes=48)  # 8 hours / 10
    client.force_login(admin_user)
    page = client.get(reverse("surveys:wave_detail", args=[wave.pk])).content.decode()
    assert "When they go out" in page and page.count('<td class="text-end">10</td>') == 6


def _event(program, n, email, at):
    return event_record(
        type=program.event_types[0], contact_email=email, account_external_id="ACC-CAP", occurred_at=at,
        idempotency_key=f"evt-{n}", delay_minutes=0,
    )  # fmt: skip


def test_a_daily_cap_defers_to_the_next_days_window_and_never_drops(db):
    program = TransactionalProgramFactory(timezone="UTC", daily_cap=2, window_start_hour=8, window_end_hour=18)
    AccountFactory(external_id="ACC-CAP", region="UTC")
    monday = utc(2027, 5, 3, 10)
    with time_machine.travel(monday, tick=False):
        for n in range(5):
            assert _event(program, n, f"p{n}@example{n}.com", monday).status == "scheduled"
    assert invitations_prepare_due(monday) == 5  # looked at 5: 2 handed over, 3 deferred
    assert OutgoingEmail.objects.count() == 2
    waiting = Invitation.objects.filter(email__isnull=True)
    assert {i.send_at for i in waiting} == {utc(2027, 5, 4, 8)}  # Tuesday's window
    assert all(i.expires_at - i.send_at == timedelta(days=program.link_expiry_days) for i in waiting)
    assert invitations_prepare_due(monday + timedelta(hours=5)) == 0  # later on Monday: nothing more
    invitations_prepare_due(utc(2027, 5, 4, 8))
    assert OutgoingEmail.objects.count() == 4
    invitations_prepare_due(utc(2027, 5, 5, 8))
    assert OutgoingEmail.objects.count() == 5 and not Invitation.objects.filter(email__isnull=True).exists()
    assert not Invitation.objects.exclude(skipped_reason="").exists()  # deferred, never dropped


def test_a_recipient_domain_gets_at_most_its_hourly_cap(db):
    program = TransactionalProgramFactory(timezone="UTC", domain_hourly_cap=2)
    AccountFactory(external_id="ACC-CAP", region="UTC")
    now = utc(2027, 5, 3, 10)
    emails = ["a@bigcorp.com", "b@bigcorp.com", "c@BigCorp.com", "d@small.example"]
    with time_machine.travel(now, tick=False):
        for n, email in enumerate(emails):
            _event(program, n, email, now)
    invitations_prepare_due(now)
    assert sorted(OutgoingEmail.objects.values_list("to", flat=True)) == ["a@bigcorp.com", "b@bigcorp.com",
                                                                          "d@small.example"]  # fmt: skip
    assert Invitation.objects.get(email__isnull=True).send_at == now + timedelta(hours=1)
    invitations_prepare_due(now + timedelta(minutes=30))
    assert OutgoingEmail.objects.count() == 3
    invitations_prepare_due(now + timedelta(hours=1))
    assert OutgoingEmail.objects.count() == 4


def test_a_new_sending_domain_warms_up_doubling_each_day(db):
    program = TransactionalProgramFactory(timezone="UTC", warmup_first_day=2)
    AccountFactory(external_id="ACC-CAP", region="UTC")
    day = utc(2027, 5, 3, 10)
    with time_machine.travel(day, tick=False):
        for n in range(10):
            _event(program, n, f"w{n}@example{n}.com", day)
    handed = []
    for offset in range(3):
        invitations_prepare_due(day + timedelta(days=offset))
        handed.append(OutgoingEmail.objects.count())
    assert handed == [2, 2 + 4, 10]  # 2 on the first day, 4 on the second, the last 4 (of 8 allowed) on the third


def test_the_editor_refuses_a_window_that_closes_before_it_opens(client, admin_user):
    from .test_cadence import form_data

    program = ProgramFactory()
    client.force_login(admin_user)
    data = form_data(program, window_start_hour=11, window_end_hour=9, send_days=[1, 2])
    page = client.post(reverse("surveys:program_edit", args=[program.pk]), data)
    assert "The window must end after it opens" in page.content.decode()
    data.update(window_start_hour=9, window_end_hour=11, daily_cap=500)
    assert client.post(reverse("surveys:program_edit", args=[program.pk]), data).status_code == 302
    program.refresh_from_db()
    assert (program.send_days, program.window_start_hour, program.window_end_hour) == ([1, 2], 9, 11)
    detail = client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()
    assert "Tue, Wed, 09:00–11:00 in each recipient&#x27;s time zone" in detail
    assert "at most 500 a day" in detail
    new = client.get(reverse("surveys:program_create") + "?stream=relationship").context["form"]
    assert (new.initial["send_days"], new.initial["window_start_hour"]) == ([1, 2, 3], 9)  # the recommended window
