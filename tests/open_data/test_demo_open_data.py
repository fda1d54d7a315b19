"""Every OCDS package and record the demo mall produces validates with zero errors against
the official 1.1.5 schema and codelists (issue 13's acceptance): the walk goes through the
public API, one record per ocid, one package per day and per month."""

from __future__ import annotations

from datetime import date, datetime, time

from mall.core.clock import SHANGHAI
from mall.demo.seed import seed_demo
from mall.purchasing.contracts import notices
from open_data import ocds
from tests.open_data.validation import assert_valid

API = "/api/v1/open-data/ocds"
PREFIX = "ocds-mall01"


def _valid(client, path: str, kind: str) -> dict:
    answer = client.get(f"{API}/{path}")
    assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:500])
    document = answer.get_json()
    assert_valid(document, kind)
    return document


def test_every_package_and_record_of_the_demo_validates(client, session):
    seed_demo(session, offers=300, seed=12, password="Demo-Password-1", echo=lambda _m: None)
    notices.publish_due(session)
    session.flush()
    everything = ocds.releases_between(
        session, prefix=PREFIX, start=datetime.combine(date(2000, 1, 1), time.min, SHANGHAI),
        end=datetime.combine(date(2999, 1, 1), time.min, SHANGHAI))
    ocids = sorted({r["ocid"] for r in everything})
    assert len(ocids) >= 5  # the demo's rounds (a secret order would publish none)
    tags = {tag for r in everything for tag in r["tag"]}
    assert {"tender", "award", "contract"} <= tags
    for ocid in ocids:
        record = _valid(client, f"records/{ocid}", "record-package")
        assert [r["id"] for r in record["records"][0]["releases"]] == [
            r["id"] for r in everything if r["ocid"] == ocid]
    days = sorted({r["date"][:10] for r in everything})
    seen = []
    for day in days:
        seen += _valid(client, f"packages/{day}", "release-package")["releases"]
    assert sorted(r["id"] for r in seen) == sorted(r["id"] for r in everything)
    for month in sorted({day[:7] for day in days}):
        _valid(client, f"bulk/{month}", "release-package")
