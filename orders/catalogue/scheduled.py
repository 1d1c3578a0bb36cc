"""Exams already arranged on a paper: those a change of its window moves (Feishu §9.1)."""

from ..models import OPEN_EXAM_STATES, Exam

LIMIT = 1000


def exams_on_paper(paper_code: str) -> list[str]:
    """Feishu's ids of the paper's exams not yet answered (at most ``LIMIT``)."""
    exams = Exam.objects.filter(paper_id=paper_code, state__in=OPEN_EXAM_STATES).order_by("received_at")
    return list(exams.values_list("exam_id", flat=True)[:LIMIT])
