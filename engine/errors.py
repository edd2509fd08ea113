"""Domain errors of the engine. ``str(error)`` is one line a user can act on."""


class EngineError(Exception):
    """Base class: the render or check cannot go on, for the reason in the message."""

    default_message = "The render engine could not process this input."

    def __init__(self, message: str | None = None):
        text = " ".join((message or self.default_message).split())
        super().__init__(text)


class NotAnImage(EngineError):
    default_message = "The file is not an image we can read; upload a JPEG or PNG photo."


class NoFaceFound(EngineError):
    default_message = "No face was found; upload a well-lit, front-facing photo of one person."


class MultipleFacesFound(EngineError):
    default_message = "More than one face was found; upload a photo that shows only one person."


class FaceTooSmall(EngineError):
    default_message = (
        "The face is too small; upload a closer photo where the face fills more of it."
    )


class CorruptAudio(EngineError):
    default_message = "The audio file cannot be read; upload a WAV recording."


class SilentAudio(EngineError):
    default_message = "No speech was heard in the recording; record again closer to the microphone."


class AudioTooShort(EngineError):
    default_message = "The recording is too short; record at least a few seconds of speech."


class EmptyScript(EngineError):
    default_message = "The script has no words to speak; write at least one sentence."


class RenderCancelled(EngineError):
    default_message = "The render was cancelled."


class ToolMissing(EngineError):
    default_message = "A program the engine needs is not installed (ffmpeg or festival)."


class PortraitTooSmall(EngineError):
    default_message = "The photo is too small; upload one at least 256 pixels across."


class FaceNotFrontal(EngineError):
    default_message = "The face is not turned to the camera; upload a photo looking straight ahead."


class FaceTurnedAside(FaceNotFrontal):
    default_message = (
        "The face is turned to the side; upload a photo where the person looks straight at the"
        " camera."
    )


class FaceTiltedUpOrDown(FaceNotFrontal):
    default_message = (
        "The head is tilted up or down; upload a photo taken at eye level, looking straight ahead."
    )


class PortraitBlurry(EngineError):
    default_message = "The face is blurry; upload a sharp, in-focus photo."


class PortraitPoorlyLit(EngineError):
    default_message = "The face is poorly lit; upload a photo taken in even, bright light."


class PortraitTooDark(PortraitPoorlyLit):
    default_message = "The face is too dark; upload a photo taken in brighter light."


class PortraitTooBright(PortraitPoorlyLit):
    default_message = "The face is overexposed (washed out); upload a photo with softer light."


class PortraitUnevenlyLit(PortraitPoorlyLit):
    default_message = (
        "One side of the face is in deep shadow; upload a photo with light falling evenly on the"
        " face."
    )


class WeightsMissing(EngineError):
    """A neural engine's local weights are not where it was told to find them."""

    default_message = "The neural engine's weights are not installed."


class FaceWeightsMissing(WeightsMissing):
    default_message = "The neural face engine's weights are not installed."


class VoiceWeightsMissing(WeightsMissing):
    default_message = "The neural voice engine's weights are not installed."


class TimelineError(EngineError):
    """A timeline that cannot be rendered; the message is one line that says what and where."""


class FootageError(EngineError):
    """Footage (minutes of the subject's own video) that cannot make an avatar."""

    default_message = "This footage cannot make an avatar; record it again."


class NotAVideo(FootageError):
    default_message = "The file is not a video we can read; upload an MP4 or WebM recording."


class FootageTooShort(FootageError):
    default_message = "The footage is too short; record at least one minute of yourself speaking."


class FootageTooLong(FootageError):
    default_message = "The footage is too long; upload at most five minutes."


class FootageSeveralFaces(FootageError):
    default_message = "More than one face is in the footage; record it with only you in view."


class FootageLooksAway(FootageError):
    default_message = (
        "The face turns away from the camera or leaves the picture; record it looking straight"
        " at the camera throughout."
    )


class FootageHasCuts(FootageError):
    default_message = "The footage has cuts; upload one continuous take without edits."


class FootageTooDark(FootageError):
    default_message = "The face is too dark in the footage; record it in brighter, even light."


class FootageHasNoSound(FootageError):
    default_message = "The footage has no sound; record it with the microphone on."
