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
STATUSES = [N_("submitted"), N_("more_info"), N_("approved"), N_("rejected"), N_("listed"),
            N_("pending_review"), N_("frozen"), N_("delisted"), N_("active"), N_("suspended"),
            N_("ended")]
SIZES = [N_("large"), N_("medium"), N_("small"), N_("micro")]
ACTIONS = [N_("approve"), N_("reject"), N_("freeze"), N_("delist"), N_("reinstate"),
           N_("queued"), N_("delisted_by_supplier")]
REVIEW_REASONS = [N_("missing_attributes"), N_("above_reference_price"),
                  N_("above_framework_cap"), N_("above_market_average"),
                  N_("duplicate_listing"), N_("manual_review"), N_("no_reference_price"),
                  N_("invalid_price")]
SUPPLIER_MESSAGES = [
    N_("Choose at least one category."), N_("Give the supplier a reason."),
    N_("A reason is required."), N_("A reason is required for this action."),
    N_("The end date must be in the future."), N_("Choose at least one offer."),
    N_("A goods framework agreement runs at most one year."),
    N_("The agreement must end after it starts."), N_("Admit at least 2 suppliers."),
    N_("Choose an end-level category."), N_("The agreement number is required."),
    N_("Enter a price in yuan, e.g. 29.90."), N_("Enter a price in yuan."),
    N_("Not a valid unified social credit code (统一社会信用代码)."),
    N_("Not a valid email address."), N_("Enter a valid phone number."),
    N_("Enter the account number (digits)."), N_("Not a valid integer."),
    N_("Shorter than minimum length 10."), N_("String does not match expected pattern."),
    N_("3–40 letters, digits, dot, dash or underscore."), N_("This login is taken."),
    N_("An organisation with this credit code is already registered."),
    N_("An application is already waiting for the operator."),
    N_("Only categories the supplier applied for can be admitted."),
    N_("This application is not waiting for a decision."),
    N_("Only a suspended admission can be reinstated."),
    N_("Must be one of: large, medium, small, micro."), N_("Not a valid date."),
]
SEARCH_MESSAGES = [N_("Give at least two different words."),
                   N_("Each word may have at most 20 characters."),
                   N_("Each SKU may appear once per batch.")]
