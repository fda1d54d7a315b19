"""Bulk import: files of every format are validated, upserted by SKU in batches, and reported."""

import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from catalog.models import Offer, PriceChange
from catalog.services import get_category
from mall.core.clock import frozen_clock
from mall.core.errors import NotFound
from suppliers.imports import service
from suppliers.imports.service import create_import_job, error_report_path, run_import
from suppliers.jobs import run_queued_imports
from suppliers.models import ImportJob, ImportStatus
from tests.conftest import csrf_from, login, own_app
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, listed_offer

HEADER = ["supplier_sku", "category_code", "brand", "model", "title", "price",
          "reference_price", "reference_date", "stock", "unit", "delivery_regions", "attr:规格"]
MAX_BYTES = 512 * 1024 * 1024
ZH_HEADER = ["商品编码", "品目编码", "品牌", "型号", "商品名称", "单价", "电商价", "参考价日期", "库存",
             "单位", "配送区域", "属性：规格"]


def offer_row(sku, *, price="29.90", code=PAPER, model=None, title=None, stock="100",
              date="2026-11-01"):
    model = model or f"M-{sku}"
    return [sku, code, "得力（deli）", model, title if title is not None else f"得力 {model} A4复印纸",
            price, "32.90", date, stock, "包", "430000，440000", "A4"]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def do_import(session, actor, tmp_path, content, *, filename="offers.csv", locale="zh_Hans_CN",
              batch_size=5000):
    job = create_import_job(session, actor, filename=filename, stream=io.BytesIO(content),
                            locale=locale, var_dir=tmp_path, max_bytes=MAX_BYTES)
    return run_import(session, job.id, var_dir=tmp_path, batch_size=batch_size)


def error_rows(tmp_path, job):
    with (tmp_path / job.error_path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def offers_of(session, actor):
    return {o.supplier_sku: o for o in session.scalars(
        select(Offer).where(Offer.supplier_id == actor.organisation_id))}


MIXED = [offer_row("G-1"), offer_row("B-1", price="12.345"), offer_row("G-2", price="1,299"),
         offer_row("B-2", title="", stock="-3"), offer_row("G-1"),
         offer_row("B-3", code="A0504"), offer_row("B-4", date="2026/13/01")]


def test_good_rows_are_created_and_each_bad_row_is_reported_in_chinese(session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, csv_bytes(MIXED))
    assert job.status is ImportStatus.DONE
    assert (job.rows_done, job.rows_created, job.rows_invalid) == (7, 2, 5)
    offers = offers_of(session, actor)
    assert set(offers) == {"G-1", "G-2"} and offers["G-2"].price_fen == 129900
    assert offers["G-1"].delivery_regions == ["430000", "440000"]
    rows = error_rows(tmp_path, job)
    assert rows[0] == ["行号", "列", "原因", "供应商SKU"]
    assert ["3", "price", "金额最多两位小数", "B-1"] in rows
    assert ["5", "title", "必填，不能为空", "B-2"] in rows
    assert ["5", "stock", "应为不小于 0 的整数", "B-2"] in rows
    assert ["6", "supplier_sku", "该 SKU 已在第 2 行出现，本行未导入", "G-1"] in rows
    assert ["7", "category_code", "品目编码应为 1 个字母加 8 位数字", "B-3"] in rows
    assert ["8", "reference_date", "日期格式应为 YYYY-MM-DD", "B-4"] in rows


def test_an_english_upload_gets_its_error_report_in_english(session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, csv_bytes(MIXED), locale="en")
    rows = error_rows(tmp_path, job)
    assert rows[0] == ["row", "column", "reason", "supplier_sku"]
    assert ["3", "price", "has more than two decimal places", "B-1"] in rows
    assert ["6", "supplier_sku", "this SKU already appears on row 2; this row was not imported",
            "G-1"] in rows


def test_uploading_the_same_file_again_changes_nothing(session, tmp_path):
    _user, actor = admitted_supplier(session)
    content = csv_bytes([offer_row(f"S-{n}") for n in range(5)])
    first = do_import(session, actor, tmp_path, content)
    history = session.scalar(select(func.count()).select_from(PriceChange))
    again = do_import(session, actor, tmp_path, content)
    assert (first.rows_created, again.rows_created, again.rows_updated,
            again.rows_unchanged) == (5, 0, 0, 5)
    assert session.scalar(select(func.count()).select_from(PriceChange)) == history
    assert again.sha256 == first.sha256 and again.error_path is None


def test_refused_items_from_the_listing_service_are_in_the_report(session, tmp_path):
    _user, actor = admitted_supplier(session, codes=(PAPER,))
    admitted_supplier(session, codes=(DESKTOP,))  # sold in the mall, not by this supplier
    job = do_import(session, actor, tmp_path, csv_bytes([
        offer_row("P-1"), offer_row("D-1", code=DESKTOP), offer_row("X-1", code="A01010101")]))
    rows = error_rows(tmp_path, job)
    assert ["3", "category_code", "贵公司未获准销售该品目", "D-1"] in rows
    assert rows[2][0] == "4" and rows[2][1] == "category_code"
    assert (job.rows_created, job.rows_invalid) == (1, 2)


def test_an_excel_workbook_with_numeric_cells_imports(session, tmp_path):
    _user, actor = admitted_supplier(session)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["X-1", PAPER, "得力（deli）", "XL-1", "得力 XL-1 复印纸", 29.9, 32, None, 100,
                  "包", "430000", "A4"])
    sheet.append([])  # blank rows are skipped, row numbers stay those of the sheet
    sheet.append(["X-2", PAPER, "得力（deli）", "XL-2", "得力 XL-2 复印纸", 0.105, 32, None, 5.5,
                  "包", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = do_import(session, actor, tmp_path, buffer.getvalue(), filename="offers.xlsx")
    offers = offers_of(session, actor)
    assert offers["X-1"].price_fen == 2990 and offers["X-1"].reference_price_fen == 3200
    assert {(r[0], r[1]) for r in error_rows(tmp_path, job)[1:]} == {("4", "price"),
                                                                     ("4", "stock")}


def test_json_lines_with_numbers_and_an_attributes_object_import(session, tmp_path):
    _user, actor = admitted_supplier(session)
    lines = [
        {"supplier_sku": "J-1", "category_code": PAPER, "brand": "得力（deli）", "model": "J-1",
         "title": "得力 J-1 复印纸", "price": 19.9, "stock": 3, "delivery_regions": ["430000"],
         "attributes": {"规格": "A4"}},
        "not an object",
    ]
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n{broken\n"
    job = do_import(session, actor, tmp_path, content.encode(), filename="offers.jsonl")
    offer = offers_of(session, actor)["J-1"]
    assert (offer.price_fen, offer.stock, offer.delivery_regions) == (1990, 3, ["430000"])
    assert offer.product.attributes == {"规格": "A4"}
    assert [r[0] for r in error_rows(tmp_path, job)[1:]] == ["2", "3"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_utf8_or_gb18030_work(session, tmp_path, encoding):
    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path,
                    csv_bytes([offer_row("Z-1", title="得力 复印纸 A4 70克")], header=ZH_HEADER,
                              encoding=encoding))
    assert job.rows_created == 1 and job.error_path is None
    offer = offers_of(session, actor)["Z-1"]
    assert offer.product.title == "得力 复印纸 A4 70克"
    assert offer.product.attributes == {"规格": "A4"}


def test_a_file_without_a_required_column_fails_whole(session, tmp_path):
    _user, actor = admitted_supplier(session)
    header = [h for h in HEADER if h != "price"]
    job = do_import(session, actor, tmp_path, csv_bytes([offer_row("N-1")[:5]], header=header))
    assert (job.status, job.failure) == (ImportStatus.FAILED, "missing_columns")
    assert job.summary["failure_detail"] == "价格"
    assert offers_of(session, actor) == {}


def test_a_broken_workbook_fails_the_job_with_the_reason(session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, b"PK\x03\x04 not really a zip",
                    filename="offers.xlsx")
    assert (job.status, job.failure, job.error_path) == (ImportStatus.FAILED, "bad_xlsx", None)


def test_a_failure_half_way_keeps_earlier_batches_and_fails_the_job(session, tmp_path,
                                                                     monkeypatch):
    _user, actor = admitted_supplier(session)
    listed_offer(session, actor, sku="OLD-1", model="M-OLD-1", price_fen=2990)
    calls = []
    real = service.save_offers

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "save_offers", failing)
    rows = [offer_row(f"H-{n}") for n in range(4)] + [offer_row("OLD-1", price="9.90"),
                                                      offer_row("H-9")]
    job = do_import(session, actor, tmp_path, csv_bytes(rows), batch_size=2)
    assert (job.status, job.failure, job.rows_done, job.rows_created) == (
        ImportStatus.FAILED, "internal_error", 4, 4)
    offers = offers_of(session, actor)
    assert set(offers) == {"OLD-1", "H-0", "H-1", "H-2", "H-3"}
    assert offers["OLD-1"].price_fen == 2990


def test_a_job_runs_once_even_when_two_runners_try(session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = create_import_job(session, actor, filename="a.csv", locale="en", var_dir=tmp_path,
                            stream=io.BytesIO(csv_bytes([offer_row("O-1")])),
                            max_bytes=MAX_BYTES)
    assert run_import(session, job.id, var_dir=tmp_path) is not None
    assert run_import(session, job.id, var_dir=tmp_path) is None


def test_the_scheduler_sweep_runs_queued_imports(app, session, tmp_path):
    _user, actor = admitted_supplier(session)
    job = create_import_job(session, actor, filename="a.csv", locale="en",
                            var_dir=app.config["MALL_VAR_DIR"], max_bytes=MAX_BYTES,
                            stream=io.BytesIO(csv_bytes([offer_row("Q-1")])))
    with app.app_context():
        run_queued_imports(session)
    session.expire_all()
    assert session.get(ImportJob, job.id).status is ImportStatus.DONE


def test_a_file_that_is_not_a_known_format_is_refused(session, tmp_path):
    from mall.core.errors import ValidationFailed

    _user, actor = admitted_supplier(session)
    with pytest.raises(ValidationFailed) as refused:
        create_import_job(session, actor, filename="offers.xls", stream=io.BytesIO(b"x"),
                          locale="en", var_dir=tmp_path, max_bytes=MAX_BYTES)
    assert refused.value.code == "unsupported_format"


# Pages


def upload(client, content, filename="offers.csv"):
    token = csrf_from(client.get("/supplier/imports/").get_data(as_text=True))
    response = client.post("/supplier/imports/", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), filename), "csrf_token": token})
    response.close()  # runs what the view scheduled after the response
    return response


def test_uploading_on_the_page_queues_the_job_and_starts_it(app, client, session, monkeypatch):
    started = []
    monkeypatch.setattr("suppliers.import_views.start_in_background",
                        lambda _app, job_id: started.append(job_id))
    _user, actor = admitted_supplier(session, login="import-page")
    login(client, "import-page")
    response = upload(client, csv_bytes(MIXED))
    assert response.status_code == 302
    job = session.scalar(select(ImportJob).where(ImportJob.supplier_id == actor.organisation_id))
    assert job.status is ImportStatus.QUEUED and started == [job.id]
    run_import(session, job.id, var_dir=app.config["MALL_VAR_DIR"])
    progress = client.get(f"/supplier/imports/{job.id}/progress").json
    assert progress["status"] == "done" and progress["percent"] == 100
    assert (progress["rows_done"], progress["created"], progress["invalid"]) == (7, 2, 5)
    page = client.get("/supplier/imports/").get_data(as_text=True)
    assert "<progress" in page and progress["error_report"] in page
    report = client.get(progress["error_report"])
    text = report.data.decode("utf-8-sig")
    report.close()  # a file response keeps its file open until closed
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "金额最多两位小数" in text


def test_another_supplier_cannot_see_the_job_or_its_error_report(app, client, session):
    _user, owner = admitted_supplier(session)
    admitted_supplier(session, login="nosy-importer")
    job = do_import(session, owner, app.config["MALL_VAR_DIR"], csv_bytes(MIXED))
    login(client, "nosy-importer")
    assert client.get(f"/supplier/imports/{job.id}/progress").status_code == 404
    assert client.get(f"/supplier/imports/{job.id}/errors.csv").status_code == 404
    assert job.filename not in client.get("/supplier/imports/").get_data(as_text=True)


def test_a_bad_upload_is_shown_on_the_form(client, session):
    admitted_supplier(session, login="import-bad")
    login(client, "import-bad")
    response = upload(client, b"whatever", filename="offers.pdf")
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True)


def test_the_template_of_a_category_has_its_required_attributes(client, session):
    admitted_supplier(session, login="import-template")
    get_category(session, PAPER).required_attributes = ["规格", "克重"]
    session.flush()
    login(client, "import-template")
    page = client.get("/supplier/imports/").get_data(as_text=True)
    assert f"/supplier/imports/templates/{PAPER}.csv" in page
    response = client.get(f"/supplier/imports/templates/{PAPER}.csv")
    header, example = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header[:3] == ["供应商SKU", "品目编码", "品牌"] and header[-2:] == ["属性:规格", "属性:克重"]
    assert example[1] == PAPER
    client.post("/language/en", data={"csrf_token": csrf_from(page)})
    english = client.get(f"/supplier/imports/templates/{PAPER}.csv").data.decode("utf-8-sig")
    assert english.startswith("supplier_sku,category_code") and "attr:克重" in english


@pytest.fixture(scope="module")
def committing_app(tmp_path_factory):
    """An app on its own database whose requests and threads really commit."""
    with own_app(tmp_path_factory, "imports") as application:
        yield application


def test_without_a_scheduler_the_upload_runs_in_a_background_thread(committing_app,
                                                                    monkeypatch):
    from mall.extensions import db
    from suppliers import import_views

    threads = []
    real = import_views.start_in_background
    monkeypatch.setattr(import_views, "start_in_background",
                        lambda app, job_id: threads.append(real(app, job_id)))
    with committing_app.app_context():
        admitted_supplier(db.session, login="import-thread")
        db.session.commit()
        db.session.remove()
    with committing_app.test_client() as client:
        login(client, "import-thread")
        upload(client, csv_bytes(MIXED))
        assert len(threads) == 1
        threads[0].join(timeout=60)
        jobs = client.get("/supplier/imports/").get_data(as_text=True)
        job_id = int(jobs.split('data-job="')[1].split('"')[0])
        progress = client.get(f"/supplier/imports/{job_id}/progress").json
    assert (progress["status"], progress["created"], progress["invalid"]) == ("done", 2, 5)


def test_an_import_whose_runner_never_started_is_started_by_the_progress_poll(committing_app,
                                                                              monkeypatch):
    from datetime import timedelta

    from mall.core.clock import frozen_clock, now
    from mall.extensions import db
    from suppliers import import_views

    threads = []
    real = import_views.start_in_background
    monkeypatch.setattr(import_views, "start_in_background",
                        lambda app, job_id: threads.append(real(app, job_id)) if threads else
                        threads.append(None))  # the upload's own runner is lost
    with committing_app.app_context():
        admitted_supplier(db.session, login="import-lost")
        db.session.commit()
        db.session.remove()
    with committing_app.test_client() as client:
        login(client, "import-lost")
        upload(client, csv_bytes(MIXED))
        jobs = client.get("/supplier/imports/").get_data(as_text=True)
        job_id = int(jobs.split('data-job="')[1].split('"')[0])
        assert client.get(f"/supplier/imports/{job_id}/progress").json["status"] == "queued"
        assert threads == [None]  # too early to restart it
        with frozen_clock(now() + timedelta(seconds=6)):
            client.get(f"/supplier/imports/{job_id}/progress")
        assert len(threads) == 2
        threads[1].join(timeout=60)
        progress = client.get(f"/supplier/imports/{job_id}/progress").json
    assert (progress["status"], progress["created"], progress["invalid"]) == ("done", 2, 5)


def test_files_of_imports_finished_over_30_days_ago_are_deleted_and_the_record_stays(
        session, tmp_path):
    from suppliers.imports.service import delete_files, release_old_files

    _user, actor = admitted_supplier(session)
    old = do_import(session, actor, tmp_path, csv_bytes(MIXED))
    recent = do_import(session, actor, tmp_path, csv_bytes([offer_row("R-1"), offer_row("R-2",
                                                                                      price="x")]))
    old_files = [tmp_path / old.stored_path, tmp_path / old.error_path]
    recent_files = [tmp_path / recent.stored_path, tmp_path / recent.error_path]
    assert all(f.is_file() for f in old_files + recent_files)

    with frozen_clock(old.finished_at + timedelta(days=30, seconds=1)):
        old.finished_at -= timedelta(days=1)  # finished a day before the other
        session.flush()
        files = release_old_files(session, tmp_path, older_than=timedelta(days=30, hours=12))
    assert sorted(files) == sorted(old_files)
    assert all(f.is_file() for f in old_files)  # nothing deleted before the records commit
    delete_files(files)

    assert not any(f.exists() for f in old_files)
    assert all(f.is_file() for f in recent_files)
    assert (old.stored_path, old.error_path, old.rows_created) == ("", None, 2)
    with pytest.raises(NotFound):
        error_report_path(old, tmp_path)  # the page offers no report any more
    with frozen_clock(old.finished_at + timedelta(days=60)):
        assert len(release_old_files(session, tmp_path)) == 2  # now the recent one's files


def test_an_upload_a_newer_import_of_the_same_file_uses_is_kept(session, tmp_path):
    from suppliers.imports.service import create_import_job, release_old_files

    _user, actor = admitted_supplier(session)
    content = csv_bytes([offer_row("S-1")])
    old = do_import(session, actor, tmp_path, content)
    again = create_import_job(session, actor, filename="offers.csv", stream=io.BytesIO(content),
                              locale="zh_Hans_CN", var_dir=tmp_path,
                              max_bytes=MAX_BYTES)  # queued, same content
    assert again.stored_path == old.stored_path

    with frozen_clock(old.finished_at + timedelta(days=31)):
        files = release_old_files(session, tmp_path)

    assert tmp_path / again.stored_path not in files and old.stored_path == ""
    assert run_import(session, again.id, var_dir=tmp_path).status is ImportStatus.DONE
