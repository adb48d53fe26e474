"""``/v1/regions/<slug>/...``: today's routes in one region of the deployment, served by the very same view functions
as the routes without a slug (one implementation; ``service/scope.py`` takes the region from the URL)."""

from __future__ import annotations

from flask import Blueprint

from routing_model.io.tabular import TableError

from . import api, complaints_api
from .complaints import DeskError

region_v1 = Blueprint("region_v1", __name__, url_prefix="/v1/regions/<region>")
region_v1.register_error_handler(DeskError, complaints_api._desk_error)
region_v1.register_error_handler(TableError, complaints_api._table_error)

MIRRORED = (
    ("/suggest", "POST", api.suggest),
    ("/complaints", "POST", complaints_api.post_complaints),
    ("/complaints/import", "POST", complaints_api.import_file),
    ("/queue", "GET", complaints_api.queue),
    ("/complaints/<complaint_id>", "GET", complaints_api.get_complaint),
    ("/complaints/<complaint_id>/decision", "POST", complaints_api.decide),
    ("/complaints/<complaint_id>/undo", "POST", complaints_api.undo),
    ("/decisions/today.xlsx", "GET", complaints_api.export_today),
    ("/forwards", "GET", complaints_api.list_forwards),
)
for rule, method, view in MIRRORED:
    region_v1.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
