import pytest

from lessons.models import Lesson


@pytest.fixture
def lesson(member) -> Lesson:
    return Lesson.objects.create(
        workspace=member.workspace, title="Fire safety", created_by=member.user
    )
