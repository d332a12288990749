"""Relationship cadences: periods, local send times across daylight saving, editing, start dates."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from surveys import cadence, services
from surveys.models import Wave

from .factories import ContactFactory, ProgramFactory


@pytest.fixture
def contact(db):
    return ContactFactory()


def test_period_labels(db):
    quarterly = ProgramFactory.build(cadence_months=3)
    assert [cadence.period_label(2026, i, 3) for i in range(4)] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert cadence.period_label(2026, 1, 6) == "2026-H2"
    assert cadence.period_label(2026, 2, 4) == "2026-T3"
    assert cadence.current_period(quarterly, datetime(2026, 11, 22, tzinfo=UTC))[0] == "2026-Q4"


def test_quarterly_waves_keep_local_time_across_daylight_saving(contact, django_capture_on_commit_callbacks):
    """09:00 in New York is 14:00 UTC in January (EST) and 13:00 UTC in April (EDT)."""
    ProgramFactory(cadence_months=3, send_day=2, send_hour=9, timezone="America/New_York", start_date=date(2026, 1, 1))
    moments = [
        (datetime(2026, 1, 2, 13, 59, tzinfo=UTC), 0),
        (datetime(2026, 1, 2, 14, 0, tzinfo=UTC), 1),
        (datetime(2026, 4, 2, 12, 59, tzinfo=UTC), 1),
        (datetime(2026, 4, 2, 13, 0, tzinfo=UTC), 2),
        (datetime(2026, 11, 2, 14, 0, tzinfo=UTC), 4),  # Q3 was missed by nobody: the July tick below
    ]
    for moment, expected in moments[:4]:
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            services.tick()
        assert Wave.objects.count() == expected, moment
    with time_machine.travel(datetime(2026, 7, 2, 13, 0, tzinfo=UTC), tick=False):
        services.tick()
    with time_machine.travel(datetime(2026, 10, 2, 13, 0, tzinfo=UTC), tick=False):
        services.tick()
    waves = {w.period: w.scheduled_at for w in Wave.objects.all()}
    assert waves == {
        "2026-Q1": datetime(2026, 1, 2, 14, 0, tzinfo=UTC),
        "2026-Q2": datetime(2026, 4, 2, 13, 0, tzinfo=UTC),
        "2026-Q3": datetime(2026, 7, 2, 13, 0, tzinfo=UTC),
        "2026-Q4": datetime(2026, 10, 2, 13, 0, tzinfo=UTC),
    }


def test_the_autumn_change_in_europe(contact):
    program = ProgramFactory(
        cadence_months=6, send_day=1, send_hour=9, timezone="Europe/Berlin", start_date=date(2026, 12, 1)
    )
    with time_machine.travel(datetime(2026, 12, 31, tzinfo=UTC), tick=False):
        label, at = cadence.next_wave(program)
    assert label == "2027-H1"
    assert at.astimezone(UTC) == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)  # CET = UTC+1
    Wave.objects.create(program=program, period=label, scheduled_at=at)
    with time_machine.travel(datetime(2027, 2, 1, tzinfo=UTC), tick=False):
        label, at = cadence.next_wave(program)
    assert label == "2027-H2"
    assert at.astimezone(UTC) == datetime(2027, 7, 1, 7, 0, tzinfo=UTC)  # CEST = UTC+2


def test_editing_the_cadence_moves_the_next_wave(client, admin_user, contact):
    program = ProgramFactory(cadence_months=3, send_day=1, send_hour=9, timezone="UTC")
    client.force_login(admin_user)
    with time_machine.travel(datetime(2026, 11, 22, tzinfo=UTC), tick=False):
        assert cadence.next_wave(program)[0] == "2026-Q4"  # October's wave is due and not sent yet
        Wave.objects.create(program=program, period="2026-Q4", scheduled_at=datetime(2026, 10, 1, 9, tzinfo=UTC))
        assert cadence.next_wave(program)[1] == datetime(2027, 1, 1, 9, tzinfo=UTC)
        page = client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()
        assert "2027-Q1" in page
        data = form_data(program, cadence_months=6, send_day=15, send_hour=7, timezone="Asia/Tokyo")
        response = client.post(reverse("surveys:program_edit", args=[program.pk]), data)
        assert response.status_code == 302
        program.refresh_from_db()
        label, at = cadence.next_wave(program)
        assert label == "2027-H1"
        assert at.astimezone(UTC) == datetime(2027, 1, 14, 22, 0, tzinfo=UTC)  # 07:00 JST
        assert "2027-H1" in client.get(reverse("surveys:program_detail", args=[program.pk])).content.decode()


def test_no_wave_before_the_start_date(contact):
    program = ProgramFactory(start_date=date(2026, 11, 15), send_day=1)
    with time_machine.travel(datetime(2026, 11, 22, tzinfo=UTC), tick=False):
        services.tick()
        assert Wave.objects.count() == 0
        assert cadence.next_wave(program) == ("2027-Q1", datetime(2027, 1, 1, 9, tzinfo=program.tz))


def form_data(program, **changes):
    data = {
        "name": program.name, "product_name": program.product_name, "question": program.question,
        "reason_prompt": program.reason_prompt, "sender_name": program.sender_name,
        "sender_email": program.sender_email, "subject": program.subject, "intro": program.intro,
        "quiet_period_days": program.quiet_period_days, "reminder_enabled": "on", "reminder_after_days": 3,
        "link_expiry_days": 30, "is_active": "on", "cadence_months": program.cadence_months,
        "send_day": program.send_day, "send_hour": program.send_hour, "timezone": program.timezone,
        "start_date": program.start_date.isoformat(), "edit_window_hours": 24, "review_offer": "everyone",
    }  # fmt: skip
    data.update(changes)
    return data


def test_calendar_quarters():
    from datetime import UTC, date, datetime

    from surveys.cadence import quarter_label, quarter_start

    assert quarter_label(date(2026, 11, 22)) == "2026-Q4" and quarter_label(date(2024, 3, 31)) == "2024-Q1"
    assert quarter_start(date(2026, 8, 15)) == date(2026, 7, 1)
    assert quarter_start(datetime(2026, 5, 20, 13, 45, 7, tzinfo=UTC)) == datetime(2026, 4, 1, tzinfo=UTC)
