"""Uploads: IMPORT_MAX_MB is the limit on every door, a body over it is answered 413 with a
clear message and nothing kept, error reports cannot carry spreadsheet formulas, and an
import whose runner died is failed within a minute."""

import csv
import io
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from mall.accounts.models import User
from mall.config import load_settings
from mall.core.clock import frozen_clock, now
from mall.core.errors import ValidationFailed
from mall.core.spreadsheet import safe_cell
from suppliers.imports import service
from suppliers.imports.service import claim_import, create_import_job, fail_stalled_imports
from suppliers.models import ImportJob, ImportStatus
from tests.conftest import csrf_from, login, own_app
from tests.factories.suppliers import admitted_supplier
from tests.suppliers.test_imports import MAX_BYTES, csv_bytes, do_import, error_rows, offer_row
from tests.suppliers.test_supplier_api import supplier_with_token

MB = 1024 * 1024
FILE_OF_1_79_MB = b"supplier_sku,price\n" + b"X-1,1.00\n" * (int(1.79 * MB) // 9)


@pytest.fixture
def one_mb(app, monkeypatch):
    """The app as configured with IMPORT_MAX_MB=1."""
    monkeypatch.setenv("IMPORT_MAX_MB", "1")
    settings = load_settings()
    for name in ("IMPORT_MAX_BYTES", "MAX_CONTENT_LENGTH"):
        monkeypatch.setitem(app.config, name, settings[name])
    return settings


def post_upload(client, token: str, content: bytes):
    """Post the import form with a file, encoded here: the test client's own encoder leaves
    a temporary file open for bodies over 500 KB."""
    boundary = "----mall-upload-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"offers.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/supplier/imports/", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _jobs(session, actor) -> int:
    return session.scalar(select(func.count()).select_from(ImportJob)
                          .where(ImportJob.supplier_id == actor.organisation_id))


def test_import_max_mb_sets_the_import_and_request_limits(monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_MB", "1")
    settings = load_settings()
    assert settings["IMPORT_MAX_BYTES"] == MB
    assert MB < settings["MAX_CONTENT_LENGTH"] < int(1.79 * MB)


def test_the_service_refuses_a_file_over_the_limit_and_keeps_nothing(session, tmp_path):
    _user, actor = admitted_supplier(session)
    with pytest.raises(ValidationFailed) as refused:
        create_import_job(session, actor, filename="offers.csv", locale="en", var_dir=tmp_path,
                          stream=io.BytesIO(FILE_OF_1_79_MB), max_bytes=MB)
    assert refused.value.code == "file_too_large"
    assert "1 MB" in refused.value.detail
    assert _jobs(session, actor) == 0
    assert list((tmp_path / "imports" / str(actor.organisation_id)).iterdir()) == []


def test_a_page_upload_over_the_setting_is_answered_413_and_nothing_is_kept(
        client, session, one_mb):
    user, actor = admitted_supplier(session, login="big-uploader")
    user.preferred_locale = "en"  # the Chinese text arrives when the catalogue is merged
    session.flush()
    login(client, "big-uploader")
    form = client.get("/supplier/imports/").get_data(as_text=True)
    assert "1 MB per file" in form

    response = post_upload(client, csrf_from(form), FILE_OF_1_79_MB)

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 1 MB, so none of it was kept" in page
    assert 'href="/supplier/imports/"' in page
    assert _jobs(session, actor) == 0
    assert client.get("/supplier/imports/").status_code == 200  # still logged in


def test_a_file_just_over_the_setting_is_refused_next_to_the_field(client, session, one_mb):
    _user, actor = admitted_supplier(session, login="edge-uploader")
    login(client, "edge-uploader")
    form = client.get("/supplier/imports/").get_data(as_text=True)
    content = b"x" * (MB + 1024)  # under the request limit, over the file limit
    response = post_upload(client, csrf_from(form), content)
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert _jobs(session, actor) == 0


def test_an_api_body_over_the_limit_is_problem_json_too_large(client, session, one_mb):
    _actor, headers = supplier_with_token(session)
    response = client.post("/api/v1/supplier/offers/batch", data=b"[" + b" " * (2 * MB) + b"]",
                           content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "too_large"
    assert "1 MB" in response.json["detail"]


# Error reports


def test_error_report_cells_cannot_start_a_formula(session, tmp_path):
    _user, actor = admitted_supplier(session)
    skus = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"]
    rows = [offer_row(sku, price="not a price") for sku in skus]
    job = do_import(session, actor, tmp_path, csv_bytes(rows), locale="en")
    reported = {row[3] for row in error_rows(tmp_path, job)[1:]}
    assert reported == {"'" + sku for sku in skus}
    for row in error_rows(tmp_path, job):
        assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in row)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tcmd", "\rcmd"])
def test_a_cell_starting_like_a_formula_is_kept_as_text(text):
    assert safe_cell(text) == "'" + text
    assert next(csv.reader([_csv_line([safe_cell(text)])]))[0].startswith("'")


@pytest.mark.parametrize("value", ["SKU-1", "12.50", "", 42, None])
def test_other_cells_are_unchanged(value):
    assert safe_cell(value) == value


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


# Runners that died


def _running_job(session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = create_import_job(session, actor, filename="a.csv", locale="en", var_dir=tmp_path,
                            stream=io.BytesIO(csv_bytes([offer_row("R-1")])),
                            max_bytes=MAX_BYTES)
    session.flush()
    assert claim_import(session, job.id)
    session.expire_all()
    return session.get(ImportJob, job.id)


def test_an_import_whose_runner_died_is_failed_within_a_minute(session, tmp_path):
    job = _running_job(session, tmp_path)
    assert fail_stalled_imports(session, at=job.updated_at + timedelta(seconds=30)) == 0
    assert fail_stalled_imports(session, at=job.updated_at + timedelta(seconds=61)) == 1
    session.expire_all()
    assert (job.status, job.failure) == (ImportStatus.FAILED, "interrupted")


def test_the_progress_poll_fails_a_dead_import_without_a_scheduler(client, session, tmp_path):
    job = _running_job(session, tmp_path)
    session.execute(update(ImportJob).where(ImportJob.id == job.id)
                    .values(updated_at=now() - timedelta(minutes=2)))
    login(client, session.get(User, job.uploaded_by_id).login)
    progress = client.get(f"/supplier/imports/{job.id}/progress").json
    assert progress["status"] == "failed" and progress["finished"]


def test_a_live_runner_keeps_its_import_from_looking_dead(tmp_path_factory, monkeypatch):
    """The heartbeat touches the job from its own connection while a long step runs."""
    monkeypatch.setattr(service, "HEARTBEAT_EVERY", timedelta(milliseconds=20))
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with own_app(tmp_path_factory, "heartbeat") as app, app.app_context():
        from mall.extensions import db

        with frozen_clock(start):
            job = _running_job(db.session, tmp_path_factory.mktemp("files"))
            db.session.commit()
        later = start + timedelta(minutes=10)
        with frozen_clock(later):
            beaten = threading.Event()
            with service._Heartbeat(db.session, job.id):
                for _ in range(250):
                    db.session.expire_all()
                    if db.session.get(ImportJob, job.id).updated_at.replace(tzinfo=UTC) == later:
                        beaten.set()
                        break
                    db.session.rollback()
                    beaten.wait(0.02)
            assert beaten.is_set()
            assert fail_stalled_imports(db.session, at=later + timedelta(seconds=30)) == 0
        db.session.remove()
    assert os.environ.get("IMPORT_MAX_MB") is None
