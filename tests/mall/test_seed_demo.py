"""`mall seed-demo` builds a believable mall that every demo login can use."""

from sqlalchemy import func, select

from catalog.models import Category, Offer, OfferStatus, Product
from mall.accounts import services as accounts
from mall.accounts.models import Organisation, User
from mall.core.auth import OrganisationKind
from mall.demo.seed import demo_logins, has_demo_data, seed_demo
from supervision.prices.models import PriceCase
from suppliers.models import AdmissionApplication, ApplicationStatus, CategoryAdmission

PASSWORD = "Demo-Password-1"


def _count(session, query):
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_the_demo_mall_has_suppliers_units_categories_and_comparable_offers(session):
    summary = seed_demo(session, offers=900, seed=7, password=PASSWORD, echo=lambda _m: None)
    assert "900 offers" in summary and has_demo_data(session)
    kinds = dict(session.execute(select(Organisation.kind, func.count())
                                 .group_by(Organisation.kind)).all())
    assert kinds[OrganisationKind.SUPPLIER] == 11  # 10 admitted, 1 awaiting admission
    admitted = session.execute(select(CategoryAdmission.supplier_id, func.count())
                               .group_by(CategoryAdmission.supplier_id)).all()
    assert len(admitted) == 10 and {n for _s, n in admitted} == {230}
    pending = session.scalars(select(AdmissionApplication)).all()
    assert [a.status for a in pending] == [ApplicationStatus.SUBMITTED]
    assert kinds[OrganisationKind.PURCHASING_UNIT] == 50
    enabled = session.scalar(select(func.count()).select_from(Category)
                             .where(Category.enabled.is_(True)))
    assert 220 <= enabled <= 240
    offers = session.scalars(select(Offer)).all()
    assert len(offers) == 900
    listed = [o for o in offers if o.status is OfferStatus.LISTED]
    held = [o for o in offers if o.status is OfferStatus.PENDING_REVIEW]
    frozen = [o for o in offers if o.status is OfferStatus.FROZEN]  # by the price demo
    assert len(listed) + len(held) + len(frozen) == 900 and len(listed) > 850
    cased = set(session.scalars(select(PriceCase.offer_id)))
    assert all(0 < o.price_fen <= o.reference_price_fen for o in listed if o.id not in cased)
    assert {o.id for o in frozen} <= cased
    assert all(o.price_fen > o.reference_price_fen and o.review_reasons == [
        "above_reference_price"] for o in held)
    assert all(isinstance(o.price_fen, int) for o in offers)
    # Price comparison needs products that several suppliers sell.
    shared = _count(session, select(Offer.product_id).group_by(Offer.product_id)
                    .having(func.count(func.distinct(Offer.supplier_id)) >= 3))
    assert shared >= 20
    titles = session.scalars(select(Product.title).limit(50)).all()
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in titles)


def test_every_printed_demo_login_works_with_the_demo_password(session):
    seed_demo(session, offers=30, seed=8, password=PASSWORD, echo=lambda _m: None)
    for _role, login in demo_logins(session):
        user = accounts.authenticate(session, login=login, password=PASSWORD, ip_address=None)
        assert user.is_active
    assert session.scalar(select(func.count()).select_from(User)) >= 3 + 20 + 150


def test_seeding_twice_adds_nothing(session):
    seed_demo(session, offers=30, seed=9, password=PASSWORD, echo=lambda _m: None)
    again = seed_demo(session, offers=30, seed=9, password=PASSWORD, echo=lambda _m: None)
    assert "already" in again
    assert session.scalar(select(func.count()).select_from(Offer)) == 30
