from django import template

register = template.Library()


@register.filter
def seconds(value) -> str:
    """Seconds of video to the millisecond, without trailing zeros: 359.25, 12, 0.5."""
    if value in (None, ""):
        return ""
    return f"{float(value):.3f}".rstrip("0").rstrip(".")
