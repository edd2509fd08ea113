"""Signals other apps listen to; consent never imports them."""

from django.dispatch import Signal

# Sent inside the revoking transaction with `grant`: rendering cancels pending jobs, avatars
# disable themselves.
grant_revoked = Signal()

# Sent inside the erasing transaction with `grant` once its retention period is over: the apps
# that keep copies of the subject's face or voice (avatars) erase them after commit and answer how
# many records they erased.
biometrics_erased = Signal()

# Sent with `workspace` when consent needs the words a script will be spoken as (a per-script
# approval records them): the app that keeps the pronunciation lexicon (studio) answers with it,
# word -> respelling.
lexicon_requested = Signal()

# Sent with `grant` when the subject's portal lists what was made with their likeness: the app
# that publishes videos (rendering) answers with a queryset of them, newest first.
videos_requested = Signal()

# Sent with `grant` when the subject's portal lists the uses of their likeness made of many
# videos at once (a campaign: one entry, not a row per recipient): each app that makes them
# (campaigns) answers with a list of dicts: name, workspace, purpose, videos (how many were made),
# share_urls (paths of the public pages) and erased (bool).
uses_requested = Signal()
