"""Bulk import of offers: store the upload, run it as a job in committed batches, report errors.

An import is a job that owns its units of work (``mall.core.unit_of_work``): each batch of
rows is saved through the listing service and committed with the job's counters, so a crash
half way leaves the earlier batches in the mall, the failing batch invisible, and the job
FAILED with the reason. Upserting by SKU makes a re-uploaded file change nothing.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.db import rowcount
from mall.core.errors import MallError, NotFound, ValidationFailed
from mall.core.spreadsheet import safe_cell
from mall.core.unit_of_work import unit_of_work
from mall.i18n_messages import N_
from suppliers.imports.parsers import file_format, open_rows
from suppliers.imports.rows import (
    COLUMNS,
    ERROR_FILE_HEADER,
    REFUSAL_COLUMNS,
    Columns,
    RowValidator,
    column_label,
    reason_text,
    resolve_columns,
)
from suppliers.listings import CREATED, REFUSED, UNCHANGED, UPDATED, require_supplier, save_offers
from suppliers.models import AdmissionStatus, CategoryAdmission, ImportJob, ImportStatus

log = logging.getLogger(__name__)
MAX_ROWS = 1_000_000
# A runner touches its job at least every HEARTBEAT_EVERY (batches commit about every second,
# a heartbeat thread covers long steps such as opening a big workbook), so a running job
# untouched for STALLED_AFTER lost its runner (killed, restarted) and is failed.
HEARTBEAT_EVERY = timedelta(seconds=15)
STALLED_AFTER = timedelta(seconds=60)
FILES_KEPT_FOR = timedelta(days=30)  # uploads and error reports; the job's record stays
LOCALES = ("zh_Hans_CN", "en")
_COPY_CHUNK = 1 << 20


class ImportFailed(MallError):
    """The file as a whole cannot be imported (missing columns, empty, too many rows)."""

    code = "import_failed"
    status = 422
    title = "Import failed"


def create_import_job(session: Session, actor: Actor, *, filename: str, stream: IO[bytes],
                      locale: str, var_dir: str | Path, max_bytes: int) -> ImportJob:
    """Store an uploaded offer file under var/imports/<supplier>/<sha256>.<ext> and queue it;
    a file over ``max_bytes`` (IMPORT_MAX_MB) is refused without keeping any of it."""
    require_supplier(actor, actor.organisation_id)
    name = PurePosixPath(filename.replace("\\", "/")).name[-200:]
    fmt = file_format(name)
    if fmt is None:
        raise ValidationFailed(code="unsupported_format",
                               errors={"file": [N_("Choose a .csv, .xlsx or .jsonl file.")]})
    folder = Path(var_dir) / "imports" / str(actor.organisation_id)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size, temporary = _copy_upload(stream, folder, max_bytes)
    if size == 0:
        temporary.unlink()
        raise ValidationFailed(code="empty_file", errors={"file": [N_("The file is empty.")]})
    relative = f"imports/{actor.organisation_id}/{digest}.{fmt}"
    os.replace(temporary, Path(var_dir) / relative)
    job = ImportJob(supplier_id=actor.organisation_id, uploaded_by_id=actor.user_id,
                    filename=name, file_format=fmt, stored_path=relative, sha256=digest,
                    locale=locale if locale in LOCALES else LOCALES[0],
                    status=ImportStatus.QUEUED, summary={"bytes": size})
    session.add(job)
    session.flush()
    record_event(session, action="offers.import_queued", object_type="import_job",
                 object_id=job.id, actor=actor,
                 data={"filename": name, "sha256": digest, "bytes": size})
    return job


def _copy_upload(stream: IO[bytes], folder: Path, max_bytes: int) -> tuple[str, int, Path]:
    """Stream the upload to a temporary file beside its final place, hashing as it goes."""
    digest = hashlib.sha256()
    size = 0
    descriptor, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := stream.read(_COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationFailed(
                        N_("The file is larger than %(mb)s MB."), code="file_too_large",
                        params={"mb": max_bytes // (1024 * 1024)},
                        errors={"file": [N_("The file is too large.")]})
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size, path


def get_import_job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    """One of the supplier's own imports; any other is "not found"."""
    job = session.get(ImportJob, job_id)
    if job is None or job.supplier_id != actor.organisation_id:
        raise NotFound()
    return job


def list_import_jobs(session: Session, actor: Actor, *, limit: int = 20) -> list[ImportJob]:
    """The supplier's latest imports, newest first."""
    require_supplier(actor, actor.organisation_id)
    return list(session.scalars(select(ImportJob)
                                .where(ImportJob.supplier_id == actor.organisation_id)
                                .order_by(ImportJob.id.desc()).limit(limit)))


def error_report_path(job: ImportJob, var_dir: str | Path) -> Path:
    """Where a job's error report is (NotFound when the job has none)."""
    path = Path(var_dir) / job.error_path if job.error_path else None
    if path is None or not path.is_file():
        raise NotFound()
    return path


def admitted_categories(session: Session, actor: Actor) -> list[Category]:
    """The categories the supplier may list now, for the template downloads."""
    require_supplier(actor, actor.organisation_id)
    return list(session.scalars(
        select(Category).join(CategoryAdmission, CategoryAdmission.category_id == Category.id)
        .where(CategoryAdmission.supplier_id == actor.organisation_id,
               CategoryAdmission.status == AdmissionStatus.ACTIVE, Category.enabled)
        .order_by(Category.code)))


def category_template(session: Session, actor: Actor, *, code: str, locale: str) -> str:
    """A CSV template for one category: header in ``locale``, an example row, required attributes."""
    require_supplier(actor, actor.organisation_id)
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None or not category.is_leaf:
        raise NotFound()
    attributes = list(category.required_attributes or [])
    english = locale == "en"
    example = {"supplier_sku": "SKU-0001", "category_code": category.code,
               "brand": "Example brand" if english else "示例品牌", "model": "ABC-123",
               "title": f"{category.name} ABC-123", "price": "99.00",
               "reference_price": "109.00", "reference_url": "https://item.example.cn/1.html",
               "reference_date": local_today().isoformat(), "stock": "100", "unit": "个",
               "delivery_regions": "430000,440000", "lead_time_days": "3",
               "warranty_months": "12", "barcode": ""}
    lines = _StringWriter()
    writer = csv.writer(lines)
    writer.writerow([safe_cell(column_label(c, locale)) for c in COLUMNS]
                    + [safe_cell(column_label(f"attr:{a}", locale)) for a in attributes])
    writer.writerow([safe_cell(example[c]) for c in COLUMNS] + ["" for _ in attributes])
    return "\ufeff" + "".join(lines.parts)


class _StringWriter:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


def next_queued_import(session: Session) -> int | None:
    """The oldest queued import, for the scheduler's sweep."""
    return session.scalar(select(ImportJob.id).where(ImportJob.status == ImportStatus.QUEUED)
                          .order_by(ImportJob.id).limit(1))


def claim_import(session: Session, job_id: int) -> bool:
    """Move a job from queued to running; False when another runner got it first."""
    moment = now()
    claimed = rowcount(session.execute(
        update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == ImportStatus.QUEUED)
        .values(status=ImportStatus.RUNNING, started_at=moment, updated_at=moment)))
    return claimed == 1


def fail_stalled_imports(session: Session, *, at=None) -> int:
    """Fail running imports without progress for a while: their runner died (restart, kill)."""
    moment = at or now()
    stalled = (ImportJob.status == ImportStatus.RUNNING,
               ImportJob.updated_at < moment - STALLED_AFTER)
    # Look first: the progress poll (a GET) calls this every few seconds while an import
    # runs, and an UPDATE, even of no row, would make it wait for SQLite's write lock.
    if session.scalar(select(ImportJob.id).where(*stalled).limit(1)) is None:
        return 0
    return rowcount(session.execute(
        update(ImportJob).where(*stalled)
        .values(status=ImportStatus.FAILED, failure="interrupted", finished_at=moment)))


def release_old_files(session: Session, var_dir: str | Path, *,
                      older_than: timedelta = FILES_KEPT_FOR, limit: int = 200) -> list[Path]:
    """Forget the uploaded files and error reports of imports finished more than
    ``older_than`` ago (the job's record, counts and SHA-256 stay; ``stored_path`` becomes
    empty) and return the files nobody needs any more, to delete once this commits. An
    upload is stored once per content, so a file a newer import of the same content still
    uses is kept."""
    jobs = list(session.scalars(select(ImportJob).where(
        ImportJob.status.in_([ImportStatus.DONE, ImportStatus.FAILED]),
        ImportJob.finished_at < now() - older_than, ImportJob.stored_path != "")
        .order_by(ImportJob.id).limit(limit)))
    released = {job.id for job in jobs}
    files: list[Path] = []
    for job in jobs:
        shared = session.scalar(select(ImportJob.id).where(
            ImportJob.stored_path == job.stored_path, ImportJob.id.not_in(released)).limit(1))
        if shared is None:
            files.append(Path(var_dir) / job.stored_path)
        if job.error_path:  # one per job
            files.append(Path(var_dir) / job.error_path)
        job.stored_path, job.error_path = "", None
    return sorted(set(files))


def delete_files(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)


@dataclass
class _Batch:
    rows: int = 0
    items: list = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    errors: list[tuple[int, str, str, str, str, dict]] = field(default_factory=list)


def run_import(session: Session, job_id: int, *, var_dir: str | Path,
               batch_size: int = 5000) -> ImportJob | None:
    """Claim a queued import and run it, committing per batch; None if someone else runs it.

    ``session`` is committed here (the job owns its units of work: the claim, each batch,
    the outcome); in tests it is the per-test session, whose commits only release savepoints.
    """
    with unit_of_work(session):
        claimed = claim_import(session, job_id)
    if not claimed:
        return None
    job = session.get_one(ImportJob, job_id)
    run = _Run(session, job, Path(var_dir), batch_size)
    try:
        with _fewer_collections(), _Heartbeat(session, job_id):
            run.execute()
    except Exception as exc:  # the failing batch's unit of work has rolled it back
        if isinstance(exc, MallError):
            code, detail = exc.code, exc.detail
        else:
            log.exception("import %s failed", job_id)
            code, detail = "internal_error", type(exc).__name__
        run.finish(ImportStatus.FAILED, failure=code, detail=detail)
    return session.get(ImportJob, job_id)


class _Heartbeat:
    """Touch a running job every HEARTBEAT_EVERY from a connection of its own, so that a
    long step of a live runner never looks like a dead one to ``fail_stalled_imports``."""

    def __init__(self, session: Session, job_id: int):
        self.engine = session.get_bind().engine  # an Engine's engine is itself
        self.job_id = job_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-{job_id}-heartbeat",
                                       daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _beat(self) -> None:
        table = ImportJob.__table__
        while not self.stopped.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(table).where(
                        table.c.id == self.job_id, table.c.status == ImportStatus.RUNNING)
                        .values(updated_at=now()))
            except Exception:  # the next beat retries; the runner itself is unaffected
                log.warning("import %s: heartbeat failed", self.job_id, exc_info=True)


@dataclass
class _Collections:
    """How many imports of this process run, and the collector's thresholds they found."""

    users: int = 0
    threshold: tuple[int, int, int] = (700, 10, 10)


_gc_lock = threading.Lock()
_gc = _Collections()


@contextlib.contextmanager
def _fewer_collections():
    """Collect garbage less often while importing, then restore the process's settings.

    A batch keeps ~100k young objects alive (rows, offers, parameters); with the default
    threshold of 700 allocations the collector rescans them hundreds of times per batch,
    which measured as 30 % of the import's time. Cycles are still collected, less often.
    """
    with _gc_lock:
        if _gc.users == 0:
            _gc.threshold = gc.get_threshold()
            gc.set_threshold(50_000, *_gc.threshold[1:])
        _gc.users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc.users -= 1
            if _gc.users == 0:
                gc.set_threshold(*_gc.threshold)


class _Run:
    """One execution of an import job: the stream of rows, the error report, the counters."""

    def __init__(self, session: Session, job: ImportJob, var_dir: Path, batch_size: int):
        self.session, self.var_dir, self.batch_size = session, var_dir, batch_size
        self.job_id, self.locale, self.fmt = job.id, job.locale, job.file_format
        self.source = var_dir / job.stored_path
        self.error_relative = f"imports/{job.supplier_id}/{job.id}-errors.csv"
        self.actor = Actor(  # the uploader, who held a supplier role and offers:write
            user_id=job.uploaded_by_id, organisation_id=job.supplier_id,
            organisation_kind=OrganisationKind.SUPPLIER,
            roles=frozenset({Role.SUPPLIER_OPERATOR}))
        self.errors_written = 0
        self.rows_done = 0
        self.summary: dict = dict(job.summary or {})
        self.first_row_of: dict[str, int] = {}
        self.columns: Columns | None = None

    def execute(self) -> None:
        error_file = self.var_dir / self.error_relative
        with open_rows(self.source, self.fmt) as source, \
                error_file.open("w", encoding="utf-8-sig", newline="") as handle:
            self.writer = csv.writer(handle)
            self.handle = handle
            self.writer.writerow(ERROR_FILE_HEADER.get(self.locale, ERROR_FILE_HEADER["en"]))
            if source.header is not None:
                self._check_header(source.header)
            with unit_of_work(self.session):
                self._progress(rows_total=min(source.estimated_rows, MAX_ROWS),
                               error_path=self.error_relative)
            validator = RowValidator()
            batch = _Batch()
            for number, row in source.rows:
                if self.rows_done + batch.rows >= MAX_ROWS:
                    raise ImportFailed(f"More than {MAX_ROWS:,} rows.", code="too_many_rows")
                self._take(validator, number, row, batch)
                if batch.rows >= self.batch_size:
                    self._save(batch)
                    batch = _Batch()
            self._save(batch)
        self.summary["ignored_columns"] = list(self.columns.ignored) if self.columns else []
        self.finish(ImportStatus.DONE)

    def _check_header(self, header: list[str]) -> None:
        if not header:
            raise ImportFailed("The file has no header row.", code="empty_file")
        self.columns = resolve_columns(header)
        if self.columns.missing:
            raise ImportFailed(", ".join(column_label(c, self.locale)
                                         for c in self.columns.missing),
                               code="missing_columns")

    def _take(self, validator: RowValidator, number: int, row: dict, batch: _Batch) -> None:
        """Validate one row into the batch: an offer to save, or its errors."""
        batch.rows += 1
        outcome = validator.validate(row)
        columns = None
        if isinstance(outcome, list):
            columns = validator.columns_for(row)
            sku = row.get(columns.headers.get("supplier_sku", ""), "").strip()
            errors = outcome
        else:
            sku, errors = outcome.supplier_sku, []
        first = self.first_row_of.setdefault(sku, number) if sku else number
        if first != number:
            errors = [("supplier_sku", "duplicate_sku_in_file")]
        if not errors:
            batch.items.append(outcome)
            batch.numbers.append(number)
            return
        columns = columns or validator.columns_for(row)
        batch.errors.extend((number, sku, column, columns.label(column, self.locale), code,
                             {"row": first}) for column, code in errors)

    def _save(self, batch: _Batch) -> None:
        """Save one batch through the listing service and commit it with the counters."""
        if not batch.rows:
            return
        with unit_of_work(self.session):
            counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED), 0)
            in_review = 0
            if batch.items:
                report = save_offers(self.session, self.actor, supplier_id=self.actor.organisation_id,
                                     items=batch.items)
                for number, result in zip(batch.numbers, report.results, strict=True):
                    if result.outcome == REFUSED:
                        assert result.error is not None  # a refusal always names its reason
                        column = REFUSAL_COLUMNS.get(result.error, "")
                        label = (self.columns.label(column, self.locale) if self.columns
                                 else column_label(column, self.locale) if column else "")
                        batch.errors.append((number, result.supplier_sku, column, label,
                                             result.error, {}))
                    else:
                        counts[result.outcome] += 1
                in_review = report.in_review
            self._write_errors(batch)
            self.rows_done += batch.rows
            invalid = len({e[0] for e in batch.errors})
            self._progress(rows_done=ImportJob.rows_done + batch.rows,
                           rows_created=ImportJob.rows_created + counts[CREATED],
                           rows_updated=ImportJob.rows_updated + counts[UPDATED],
                           rows_unchanged=ImportJob.rows_unchanged + counts[UNCHANGED],
                           rows_invalid=ImportJob.rows_invalid + invalid,
                           rows_in_review=ImportJob.rows_in_review + in_review)

    def _write_errors(self, batch: _Batch) -> None:
        """Append the batch's errors to the report before its commit (they are facts of the file)."""
        batch.errors.sort(key=lambda e: e[0])
        for number, sku, column, label, code, params in batch.errors:
            # Cells are the supplier's text: a leading = + - @ must not become a formula.
            self.writer.writerow([number, safe_cell(label),
                                  safe_cell(reason_text(code, self.locale, column, **params)),
                                  safe_cell(sku)])
        self.errors_written += len(batch.errors)
        self.handle.flush()

    def _progress(self, **values) -> None:
        self.session.execute(update(ImportJob).where(ImportJob.id == self.job_id)
                             .values(updated_at=now(), **values))

    def finish(self, status: ImportStatus, *, failure: str | None = None,
               detail: str = "") -> None:
        """Record the outcome; a report without errors is removed rather than offered."""
        if detail:
            self.summary["failure_detail"] = detail
        values: dict[str, Any] = {"status": status, "failure": failure, "finished_at": now(),
                                  "summary": self.summary}
        if status is ImportStatus.DONE:
            values["rows_total"] = self.rows_done
        if not self.errors_written:
            values["error_path"] = None
            (self.var_dir / self.error_relative).unlink(missing_ok=True)
        else:
            values["error_path"] = self.error_relative
        with unit_of_work(self.session):
            self._progress(**values)
