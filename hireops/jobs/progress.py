"""The progress bar of a job's list row and page (background jobs and exports): both admins
use it, neither importing the other."""

from django.utils.html import format_html


def progress_html(total: int, done: int, percent: int):
    return format_html(
        '<progress max="{}" value="{}" style="width: 10em"></progress> {} %', total, done, percent
    )
