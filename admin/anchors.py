"""The public face of the audit trail: the signed daily anchors of the hash chain and the key
that checks them, for anyone to download and keep (no login)."""

from flask import Blueprint, abort, current_app, render_template, send_file

from mall.core.audit_anchor import AnchorKeys, anchor_file, fingerprint, load_anchors, public_key_pem

blueprint = Blueprint("audit_anchors", __name__, url_prefix="/audit/anchors")


@blueprint.route("")
def index():
    """Every published anchor, newest first, with the public key and how to check a file."""
    keys = AnchorKeys.from_config(current_app.config)
    published = load_anchors(keys)
    return render_template("admin/anchors.html", anchors=list(reversed(published.anchors)),
                           rejected=published.rejected,
                           fingerprint=fingerprint(keys.public_key()))


@blueprint.route("/public-key.pem")
def public_key():
    """The Ed25519 public key (PEM) that checks every anchor's signature."""
    keys = AnchorKeys.from_config(current_app.config)
    response = current_app.response_class(public_key_pem(keys.public_key()),
                                          mimetype="application/x-pem-file")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-anchor-key.pem"'
    return response


@blueprint.route("/<name>")
def download(name: str):
    """One anchor (<day>.json) or its detached signature (<day>.json.sig)."""
    path = anchor_file(AnchorKeys.from_config(current_app.config).directory, name)
    if path is None:
        abort(404)
    mimetype = "application/octet-stream" if name.endswith(".sig") else "application/json"
    return send_file(path, mimetype=mimetype, as_attachment=name.endswith(".sig"),
                     download_name=name, max_age=3600)
