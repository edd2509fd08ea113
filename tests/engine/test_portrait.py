import pytest

from engine.errors import FaceTooSmall, MultipleFacesFound, NoFaceFound, NotAnImage
from engine.face import inspect_portrait


def test_a_photo_of_one_person_gives_478_landmarks_inside_the_face(astronaut_png):
    report = inspect_portrait(astronaut_png)
    assert (report.width, report.height, report.face_count) == (512, 512, 1)
    assert len(report.landmarks) == 478
    left, top, right, bottom = report.face_box
    assert 150 < left < right < 300 and 50 < top < bottom < 200
    mouth_left, mouth_right = report.landmarks[61], report.landmarks[291]
    assert left < mouth_left[0] < mouth_right[0] < right


def test_a_blank_image_has_no_face(blank_png):
    with pytest.raises(NoFaceFound):
        inspect_portrait(blank_png)


def test_two_people_side_by_side_are_refused(two_people_png):
    with pytest.raises(MultipleFacesFound):
        inspect_portrait(two_people_png)


def test_a_tiny_face_is_too_small(tiny_face_png):
    with pytest.raises(FaceTooSmall, match="pixels wide"):
        inspect_portrait(tiny_face_png)


def test_garbage_bytes_are_not_an_image(garbage_file):
    with pytest.raises(NotAnImage):
        inspect_portrait(garbage_file)


def test_an_empty_file_is_not_an_image(empty_file):
    with pytest.raises(NotAnImage, match="empty"):
        inspect_portrait(empty_file)


def test_a_missing_file_is_not_an_image(tmp_path):
    with pytest.raises(NotAnImage, match="does not exist"):
        inspect_portrait(tmp_path / "nowhere.jpg")
