"""The statistics API: the figures of the statistics pages, for supervisors and operators."""

from __future__ import annotations

from mall.web.parsing import Blueprint

blueprint = Blueprint("statistics_api", __name__, url_prefix="/statistics",
                      description="Statistics of the mall's purchases for supervisors and "
                                  "operators")
