"""The page blueprint of supervision; each part's ``views`` module registers its pages on it."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("supervision", __name__, url_prefix="/supervision")
