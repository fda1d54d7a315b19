"""Build the demo mall: the trading centre, supervisor and bank, 10 suppliers, 50 units,
~230 enabled categories (the 集采 items among them marked centrally procured) and N offers
(several suppliers per product, for comparison)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from catalog.normalise import normalise_model
from catalog.services import load_catalogue
from mall.accounts import services as accounts
from mall.accounts.models import Organisation
from mall.core import bulk
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.credit_codes import uscc_with_check_digit
from mall.demo.complaints import seed_complaints
from mall.demo.experts import seed_experts
from mall.demo.financing import seed_financing
from mall.demo.organisations import demo_suppliers, demo_units
from mall.demo.performance import seed_performance
from mall.demo.prices import seed_prices
from mall.demo.products import enabled_category_codes, generate_products
from mall.demo.rounds import seed_rounds
from mall.demo.splitting import seed_splitting
from mall.demo.statistics import seed_statistics
from mall.purchasing.budget.models import BudgetLine, UnitSettings
from suppliers.models import (
    AdmissionApplication,
    AdmissionStatus,
    ApplicationStatus,
    CategoryAdmission,
    SizeClass,
    SupplierProfile,
)
from suppliers.moderation import record_queued

BATCH = 5_000
CENTRE = ("长沙市公共资源交易中心", "12430100MB1A23456X")
SUPERVISOR = ("长沙市财政局", "11430100MB0C12345Y")
BANK = ("潇湘农村商业银行股份有限公司", "91430100MA4L12345Z")
DEMO_LOGINS: list[tuple[str, str]] = [
    ("operator (trading centre)", "operator"),
    ("supervisor (finance bureau)", "supervisor"),
    ("bank user", "bank"),
    ("second bank user", "bank2"),
    ("supplier admin", "supplier1"),
    ("supplier operator", "supplier1-ops"),
    ("applicant supplier (awaits admission)", "applicant"),
    ("acceptance expert (expert pool; expert1 ... expert8)", "expert1"),
    ("buyer (unit 1)", "unit01-buyer"),
    ("approver (unit 1)", "unit01-approver"),
    ("finance (unit 1)", "unit01-finance"),
]


def has_demo_data(session: Session) -> bool:
    """True once the demo suppliers exist (``mall up`` seeds only an empty database)."""
    return bool(session.scalar(select(func.count()).select_from(Organisation)
                               .where(Organisation.kind == OrganisationKind.SUPPLIER)))


def demo_logins(session: Session) -> list[tuple[str, str]]:
    """One demo login per role, as printed at start."""
    return DEMO_LOGINS


# Each demo unit's purchase plan for this year: (category, project, amount in fen).
DEMO_BUDGET_LINES = (("A02000000", "信息化设备购置", 200_000_000),
                     ("A05000000", "办公用品及耗材采购", 50_000_000))
DEMO_APPROVAL_ABOVE_FEN = 5_000_000  # orders above 5万元 need the unit's approver
# The centrally procured items (集中采购目录品目) of the demo, by their 2022 codes: the eleven
# 集采 items the Ordos mall sells by direct purchase (docs/domain.md, Sources). The 2022
# catalogue files printers by format and colour, so laser, inkjet and dot-matrix printers
# are its four A3/A4 printer codes.
CENTRALLY_PROCURED_CODES = (
    "A02010104",  # 服务器
    "A02010105",  # 台式计算机
    "A02010108",  # 便携式计算机
    "A02020200",  # 投影仪
    "A02020400",  # 多功能一体机
    "A02020800",  # 触控一体机
    "A02021001", "A02021002", "A02021003", "A02021004",  # A3/A4 黑白、彩色打印机
    "A02021118",  # 扫描仪
    "A02021301",  # 碎纸机
)


def _budgets(session: Session) -> None:
    """Budget lines and an internal-approval amount for every demo purchasing unit."""
    year = local_today().year
    units = session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.PURCHASING_UNIT)).all()
    moment = now()
    session.execute(insert(BudgetLine), [
        {"organisation_id": unit, "fiscal_year": year, "category_code": code,
         "project_code": f"{year}-{unit:03d}-{n}", "project_name": name, "amount_fen": amount,
         "reserved_fen": 0, "committed_fen": 0, "spent_fen": 0, "created_at": moment,
         "updated_at": moment}
        for unit in units for n, (code, name, amount) in enumerate(DEMO_BUDGET_LINES, start=1)])
    session.execute(insert(UnitSettings), [
        {"organisation_id": unit, "approval_above_fen": DEMO_APPROVAL_ABOVE_FEN} for unit in units])


def _people(session: Session, password_hash: str) -> list[Organisation]:
    def org(kind, name, code, region="430100", region_name="长沙市"):
        return accounts.create_organisation(session, kind=kind, name=name,
                                            credit_code=uscc_with_check_digit(code[:17]),
                                            region_code=region,
                                            region_name=region_name)

    def user(organisation, login, name, roles):
        accounts.create_user(session, organisation=organisation, login=login, display_name=name,
                             password="", roles=roles, password_hash=password_hash)

    centre = org(OrganisationKind.OPERATOR, *CENTRE)
    user(centre, "operator", "交易中心运营", [Role.OPERATOR])
    bureau = org(OrganisationKind.SUPERVISOR, *SUPERVISOR)
    user(bureau, "supervisor", "财政局监管", [Role.SUPERVISOR])
    bank = org(OrganisationKind.FINANCE_PARTNER, *BANK)
    user(bank, "bank", "银行客户经理", [Role.BANK_USER])
    suppliers = []
    for n, demo in enumerate(demo_suppliers()):
        supplier = org(OrganisationKind.SUPPLIER, demo.name, demo.credit_code, demo.region_code,
                       None)
        user(supplier, demo.login, demo.contact_name, [Role.SUPPLIER_ADMIN])
        user(supplier, f"{demo.login}-ops", f"{demo.short_name}运营", [Role.SUPPLIER_OPERATOR])
        session.add(SupplierProfile(
            organisation_id=supplier.id, legal_representative=demo.legal_representative,
            controlling_shareholder=demo.legal_representative, size=SizeClass(demo.size),
            employees=(2000, 800, 120, 40, 8)[min(n % 5, 4)], revenue_wan=None, assets_wan=None,
            sme_declared_on=None if demo.size == "large" else local_today(),
            contact_name=demo.contact_name, contact_phone=demo.contact_phone,
            contact_email=demo.email, bank_name="潇湘农村商业银行营业部",
            bank_account=f"62309010{n:04d}{supplier.id:06d}",
            delivery_regions=["430000"]))
        suppliers.append(supplier)
    applicant = org(OrganisationKind.SUPPLIER, "星城办公用品有限公司", "91430104MA4R00001X",
                    "430104", "岳麓区")
    user(applicant, "applicant", "赵星城", [Role.SUPPLIER_ADMIN])
    session.add(SupplierProfile(
        organisation_id=applicant.id, legal_representative="赵星城",
        controlling_shareholder="赵星城", size=SizeClass.MICRO, employees=9, revenue_wan=260,
        assets_wan=120, sme_declared_on=local_today(), contact_name="赵星城",
        contact_phone="13907310000", contact_email="zhao@xingcheng.example.cn",
        bank_name="潇湘农村商业银行岳麓支行", bank_account="6230901099990001",
        delivery_regions=["430100"]))
    session.add(AdmissionApplication(organisation_id=applicant.id,
                                     status=ApplicationStatus.SUBMITTED,
                                     category_codes=["A05040101", "A05040201", "A05010501"],
                                     note="主营复印纸、硒鼓与办公家具，长沙市内次日达。"))
    for unit_demo in demo_units():
        unit = org(OrganisationKind.PURCHASING_UNIT, unit_demo.name, unit_demo.credit_code,
                   unit_demo.region_code, unit_demo.region_name)
        prefix, name = unit_demo.login_prefix, unit_demo.name
        user(unit, f"{prefix}-buyer", f"{name}经办人", [Role.BUYER])
        user(unit, f"{prefix}-approver", f"{name}审批人", [Role.APPROVER])
        user(unit, f"{prefix}-finance", f"{name}财务", [Role.FINANCE])
    return suppliers


def _inserted(session: Session, model: type, rows: list[dict], *key: str) -> list[int]:
    """Insert rows in bulk; their new ids in the order of ``rows``, paired by the natural
    ``key`` columns (mall.core.bulk returns rows unordered)."""
    ids = {tuple(found[1:]): found[0] for found in bulk.insert(session, model, rows, "id", *key)}
    return [ids[tuple(row[name] for name in key)] for row in rows]


def seed_demo(session: Session, *, offers: int = 20_000, seed: int = 2026, password: str,
              echo: Callable[[str], None] = print) -> str:
    """Create the demo mall in one transaction per batch; returns a one-line summary."""
    started = time.perf_counter()
    rng = random.Random(seed)
    load_catalogue(session)
    if has_demo_data(session):
        return "demo data already present; nothing done"
    suppliers = _people(session, accounts.hash_password(password))
    _budgets(session)
    codes = enabled_category_codes()
    categories = dict(session.execute(select(Category.code, Category.id)
                                      .where(Category.code.in_(codes))).all())
    session.execute(Category.__table__.update().where(Category.code.in_(codes))
                    .values(enabled=True))
    session.execute(Category.__table__.update()
                    .where(Category.code.in_(CENTRALLY_PROCURED_CODES))
                    .values(centrally_procured=True))
    today = local_today()
    bulk.insert(session, CategoryAdmission, [
        {"supplier_id": s.id, "category_id": category_id, "status": AdmissionStatus.ACTIVE,
         "admitted_on": today, "created_at": now(), "updated_at": now()}
        for s in suppliers for category_id in categories.values()])
    session.commit()
    echo(f"organisations and users ready; {len(codes)} categories enabled")

    supplier_ids = [s.id for s in suppliers]
    regions = sorted({"430000", *(s.region_code[:2] + "0000" for s in suppliers if s.region_code)})
    moment = now()
    made = 0
    seen: set[tuple[int, str, str]] = set()
    products = generate_products(offers, seed=seed)
    sku_serial = 0
    while made < offers:
        product_rows, planned = [], []
        for demo in products:
            key = (categories[demo.category_code], demo.brand, normalise_model(demo.model))
            if key in seen:
                continue
            seen.add(key)
            product_rows.append({
                "category_id": key[0], "brand": demo.brand, "model": demo.model,
                "model_key": key[2], "title": demo.title, "unit": demo.unit,
                "attributes": demo.attributes, "energy_saving": demo.energy_saving,
                "green": demo.green, "created_at": moment, "updated_at": moment})
            sellers = rng.sample(supplier_ids, k=min(offers - made, rng.choice((1, 2, 3, 3, 4))))
            planned.append((demo.reference_price_fen, sellers))
            made += len(sellers)
            if len(product_rows) >= BATCH // 3 or made >= offers:
                break
        if not product_rows:
            products = generate_products(offers, seed=seed + made + 1)
            continue
        product_ids = _inserted(session, Product, product_rows,
                                "category_id", "brand", "model_key")
        offer_rows: list[dict[str, Any]] = []
        for product_id, (reference, sellers) in zip(product_ids, planned, strict=True):
            for supplier_id in sellers:
                sku_serial += 1
                # Mall prices sit 0-15 % under the supplier's public price; about one offer
                # in 200 is above it and waits in the operator's review queue.
                price = reference - reference * rng.randint(0, 15) // 100
                held = rng.random() < 0.005
                if held:
                    price = reference + reference * rng.randint(3, 20) // 100
                offer_rows.append({
                    "product_id": product_id, "supplier_id": supplier_id,
                    "supplier_sku": f"SKU{sku_serial:08d}", "price_fen": max(price, 1),
                    "reference_price_fen": reference,
                    "reference_url": f"https://item.example.cn/{product_id}-{supplier_id}.html",
                    "reference_checked_on": moment - timedelta(days=rng.randint(0, 20)),
                    "stock": rng.choice((0, 5, 20, 50, 100, 200, 500, 1000)),
                    "delivery_regions": regions, "lead_time_days": rng.choice((1, 2, 3, 5, 7)),
                    "warranty_months": rng.choice((0, 12, 12, 24, 36)),
                    "status": OfferStatus.PENDING_REVIEW if held else OfferStatus.LISTED,
                    "review_reasons": ["above_reference_price"] if held else [],
                    "created_at": moment, "updated_at": moment})
        offer_ids = _inserted(session, Offer, offer_rows, "supplier_sku")
        bulk.insert(session, PriceChange, [
            {"offer_id": offer_id, "changed_at": moment, "changed_by_id": None,
             "old_price_fen": None, "new_price_fen": row["price_fen"]}
            for offer_id, row in zip(offer_ids, offer_rows, strict=True)])
        record_queued(session, [(offer_id, row["supplier_id"], row["review_reasons"])
                                for offer_id, row in zip(offer_ids, offer_rows, strict=True)
                                if row["review_reasons"]], at=moment)
        session.commit()
        if made % 100_000 < len(offer_rows) or made >= offers:
            echo(f"  {made:,} offers")
    echo(seed_rounds(session))
    echo(seed_financing(session))
    for seed_part in (seed_complaints, seed_experts, seed_splitting, seed_prices, seed_performance,
                      seed_statistics):  # statistics last: its aggregates count the others
        echo(seed_part(session))
    elapsed = time.perf_counter() - started
    return (f"demo mall seeded: {len(suppliers)} suppliers, {len(demo_units())} units, "
            f"{len(codes)} categories, {made:,} offers in {elapsed:.1f}s")
