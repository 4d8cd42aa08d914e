"""Timestamps: one wire form (JavaScript's toISOString), any RFC 3339 form read, ms precision."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from jsonapi_server.jsonapi.fields import Timestamp
from jsonapi_server.times import (
    format_timestamp,
    format_timestamp_text,
    parse_timestamp,
)


def test_written_with_three_fraction_digits_and_z():
    value = datetime(2021, 11, 23, 14, 38, 3, 250_999, tzinfo=UTC)
    assert format_timestamp(value) == "2021-11-23T14:38:03.250Z"
    assert format_timestamp(datetime(2021, 11, 23, 14, 38, 3, tzinfo=UTC)) == (
        "2021-11-23T14:38:03.000Z"
    )
    assert format_timestamp(None) is None


def test_other_zones_are_written_in_utc():
    plus_one = timezone(timedelta(hours=1))
    value = datetime(2024, 8, 11, 19, 51, 50, tzinfo=plus_one)
    assert format_timestamp(value) == "2024-08-11T18:51:50.000Z"


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 2, 3, 4, 5, 6, 7_000, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, 0, 500_000),  # naive: taken as UTC
        datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_written_as_isoformat_in_utc_would_write_it(value):
    in_utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    assert format_timestamp(value) == in_utc.isoformat(timespec="milliseconds")[:-6] + "Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-11-23 14:38:02 UTC", datetime(2021, 11, 23, 14, 38, 2, tzinfo=UTC)),
        ("2021-11-23T14:38:03Z", datetime(2021, 11, 23, 14, 38, 3, tzinfo=UTC)),
        ("2021-11-23T14:38:03.250Z", datetime(2021, 11, 23, 14, 38, 3, 250_000, tzinfo=UTC)),
        ("2021-11-23T14:38:03.2509999Z", datetime(2021, 11, 23, 14, 38, 3, 250_000, tzinfo=UTC)),
        (
            "2024-07-30T21:11:21.9538358+01:00",
            datetime(2024, 7, 30, 20, 11, 21, 953_000, tzinfo=UTC),
        ),
        ("2021-11-23t14:38:03-05:30", datetime(2021, 11, 23, 20, 8, 3, tzinfo=UTC)),
    ],
)
def test_rfc3339_and_the_seed_form_are_read_to_the_millisecond(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2021-11-23",
        "2021-13-01T00:00:00Z",
        "2021-11-23T14:38:03",
        "2021-11-23T25:00:00Z",
        "2021-11-23T14:38:03+24:00",
        1637678283,
    ],
)
def test_malformed_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-11-23 14:38:03.25+00", "2021-11-23T14:38:03.250Z"),
        ("2021-11-23 14:38:03+00", "2021-11-23T14:38:03.000Z"),
        ("2021-11-23 14:38:03.123999+00", "2021-11-23T14:38:03.123Z"),
        ("2021-11-24 01:08:03.5+10:30", "2021-11-23T14:38:03.500Z"),
        ("2021-11-23 14:38:03.250000+00:00", "2021-11-23T14:38:03.250Z"),  # isoformat's
    ],
)
def test_postgresql_text_of_a_timestamp_is_written_as_its_value_would_be(text, expected):
    assert format_timestamp_text(text) == expected
    assert format_timestamp_text(text) == format_timestamp(datetime.fromisoformat(text))


def test_a_javascript_round_trip_is_exact():
    written = format_timestamp(datetime(2021, 11, 23, 14, 38, 3, 250_000, tzinfo=UTC))
    # new Date(written).toISOString() gives back the same string; reading it gives the same instant
    assert format_timestamp(parse_timestamp(written)) == written


def test_the_schema_field_reports_a_readable_error():
    from marshmallow import ValidationError

    with pytest.raises(ValidationError, match="RFC 3339"):
        Timestamp().deserialize("not a time")


def test_timestamps_are_read_in_utc_whatever_the_database_zone():
    """Timestamps are not converted value by value on PostgreSQL: every connection's session
    zone is UTC (config.settings.postgresql_engine_options), whatever the database's default."""
    import sqlalchemy as sa

    from jsonapi_server import create_app
    from jsonapi_server.extensions import db
    from jsonapi_server.models.base import UTCDateTime

    from .conftest import SERVER_URL, TEST_SETTINGS, scratch_database

    with scratch_database("zone") as url:
        admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(
                sa.text(f"ALTER DATABASE \"{url.rsplit('/', 1)[1]}\" SET timezone = 'Asia/Tokyo'")
            )
        admin.dispose()
        app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            stored = sa.cast(sa.literal("2026-01-02T03:04:05.678Z"), UTCDateTime)
            value = db.session.execute(sa.select(stored)).scalar_one()
            db.session.remove()
            db.engine.dispose()
    assert value == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert value.tzinfo is UTC


def test_remembered_texts_serve_equal_instants_in_any_zone():
    utc = datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    elsewhere = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    naive = utc.replace(tzinfo=None)  # read as UTC, and never equal to an aware value
    for value in (utc, elsewhere, naive, elsewhere, utc):
        assert format_timestamp(value) == "2026-05-06T07:08:09.123Z"
    assert format_timestamp(utc + timedelta(milliseconds=1)) == "2026-05-06T07:08:09.124Z"


def test_timestamps_are_read_by_fromisoformat_and_the_rest_as_psycopg2_reads_them(session):
    import sqlalchemy as sa

    def read(literal: str):
        return session.execute(sa.text(f"SELECT timestamptz '{literal}'")).scalar()

    assert read("2026-01-02 03:04:05.678+00") == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert read("2026-01-02 03:04:05+00").tzinfo is UTC
    assert read("infinity") == datetime.max.replace(tzinfo=UTC)  # psycopg2's own reading
    with pytest.raises(ValueError, match="out of range"):  # as psycopg2 refuses it
        read("0044-03-15 12:00:00+00 BC")
    session.rollback()


def test_a_timestamp_text_read_again_gives_the_same_datetime_and_the_memory_is_bounded(
    session, monkeypatch
):
    import sqlalchemy as sa

    from jsonapi_server.db import typecasters

    def read(literal: str):
        return session.execute(sa.text(f"SELECT timestamptz '{literal}'")).scalar()

    first = read("2026-01-02 03:04:05.678+00")
    again = read("2026-01-02 03:04:05.678+00")
    assert again is first  # the object read before, whose hash is already worked out
    assert read("2026-01-02 03:04:05.679+00") == first + timedelta(milliseconds=1)
    monkeypatch.setattr(typecasters._timestamps_read, "limit", 3)
    for millisecond in range(10):
        assert read(f"2027-01-01 00:00:00.{millisecond:03d}+00").microsecond == millisecond * 1000
        assert len(typecasters._timestamps_read) <= 3
