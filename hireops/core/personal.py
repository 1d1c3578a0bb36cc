"""Who may see personal data (mobiles, emails) unmasked."""

PERMISSION = "core.view_personal_data"


def can_see_personal_data(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))
