"""Indices into mediapipe FaceMesh's 478-point layout for the parts the warp moves.

"Left"/"right" are as seen in the image (mediapipe names them from the subject's side).
"""

FACE_OVAL = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
]  # fmt: skip
LIPS_UPPER_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LIPS_LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
LIPS_UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LIPS_LOWER_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
CHIN = 152
NOSE_TIP = 1
# Eye contours from the outer to the inner corner: upper lid, then lower lid.
LEFT_EYE_UPPER = [33, 246, 161, 160, 159, 158, 157, 173, 133]
LEFT_EYE_LOWER = [33, 7, 163, 144, 145, 153, 154, 155, 133]
RIGHT_EYE_UPPER = [263, 466, 388, 387, 386, 385, 384, 398, 362]
RIGHT_EYE_LOWER = [263, 249, 390, 373, 374, 380, 381, 382, 362]
LEFT_BROW = [70, 63, 105, 66, 107]
RIGHT_BROW = [300, 293, 334, 296, 336]

USED_BY_WARP = sorted(
    set(
        FACE_OVAL
        + LIPS_UPPER_OUTER
        + LIPS_LOWER_OUTER
        + LIPS_UPPER_INNER
        + LIPS_LOWER_INNER
        + LEFT_EYE_UPPER
        + LEFT_EYE_LOWER
        + RIGHT_EYE_UPPER
        + RIGHT_EYE_LOWER
        + LEFT_BROW
        + RIGHT_BROW
        + [CHIN, NOSE_TIP]
    )
)
LANDMARK_COUNT = 478
