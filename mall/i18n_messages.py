"""Messages computed at run time (role and kind names, error titles, service messages).

Listed here so that ``pybabel extract -k N_`` puts them in the catalogue; templates and
views translate them with gettext when they show them.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark, don't translate"
    return message


ROLE_NAMES = [N_("buyer"), N_("approver"), N_("finance"), N_("supplier_admin"),
              N_("supplier_operator"), N_("operator"), N_("supervisor"), N_("bank_user")]
KIND_NAMES = [N_("purchasing_unit"), N_("supplier"), N_("finance_partner")]
ERROR_TITLES = [N_("Request refused"), N_("Invalid input"), N_("Not found"), N_("Forbidden"),
                N_("Authentication required"), N_("Conflict"), N_("Too many requests"),
                N_("Internal error"), N_("CSRF check failed"), N_("Method Not Allowed"),
                N_("Bad Request")]
DETAILS = [N_("Please log in."), N_("Your role does not allow this."),
           N_("Something went wrong on our side; nothing you sent was saved."),
           N_("The form expired or was not sent by this site; reload the page and retry."),
           N_("At least one role is required."), N_("Choose at least one scope."),
           N_("Name is required."), N_("The requested URL was not found on the server. If you "
                                       "entered the URL manually please check your spelling "
                                       "and try again."),
           N_("Missing data for required field."), N_("Not a valid string."),
           N_("Shorter than minimum length 1.")]
