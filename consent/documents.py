"""The consent document that ships with the site (version 1). New texts are new versions."""

STANDARD_SLUG = "digital-replica"
STANDARD_TITLE = "Consent to create and use a digital replica of my face and voice"
STANDARD_BODY = """\
I, the undersigned, agree that the organisation named in this consent may create a digital
replica of my face and voice from photographs and recordings I provide, and may use it to make
videos in which the replica speaks scripts written by that organisation.

1. Scope. The replica may be used only for the purposes listed in this consent and only between
   the dates shown. Any other use needs a new consent from me.
2. Labeling. Every video made with my replica will be marked as AI-generated: with a visible
   label, with machine-readable provenance information, and with an invisible watermark.
3. Records. A record is kept of every video made with my replica, and I may see that record.
4. Revocation. I may revoke this consent at any time. When I do, no new video will be made,
   pending videos will be cancelled, and my photographs, recordings and biometric data will be
   deleted after the retention period stated by the organisation.
5. Evidence. My signature, the time of signing, and technical details of the signing (network
   address and browser) are kept as evidence of this consent.

I confirm that I am the person depicted, that I am at least 18 years old, and that I give this
consent freely.
"""
