"""The consent certificate: a PDF (WeasyPrint) of the document, scope, evidence, verification
scores and the head of the workspace's own ledger chain (not the site-wide head, which would tell
of every other workspace's activity), signed with the site's key (pyHanko, PAdES) so anyone
holding the site's root certificate can check it was issued here and not altered."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from consent import ledger
from consent.models import ConsentGrant


def certificate_html(grant: ConsentGrant) -> str:
    status = ledger.verify()
    head = ledger.workspace_head(grant.workspace_id)
    return render_to_string(
        "consent/certificate.html",
        {
            "grant": grant,
            "verification": grant.verifications.first(),
            "timeline": ledger.timeline(grant),
            "approvals": grant.approvals.all(),
            "ledger_head": head.head,
            "ledger_length": head.entries,
            "ledger_intact": status.intact,
            "issued_at": timezone.now(),
            "site_name": settings.SITE_NAME,
        },
    )


def sign_pdf(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from engine.keys import ensure_site_identity

    identity = ensure_site_identity(settings.SITE_KEYS_DIR, site_name=settings.SITE_NAME)
    signer = signers.SimpleSigner.load(
        key_file=str(identity.signer_key_path),
        cert_file=str(identity.signer_cert_path),
        ca_chain_files=(str(identity.root_cert_path),),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(
            field_name="LikenessConsent",
            reason="Consent certificate issued by the site",
            location=settings.SITE_NAME,
            md_algorithm="sha256",
        ),
        signer=signer,
        new_field_spec=fields.SigFieldSpec(sig_field_name="LikenessConsent"),
    )
    return output.getvalue()


def certificate_pdf(grant: ConsentGrant) -> bytes:
    from weasyprint import HTML

    return sign_pdf(HTML(string=certificate_html(grant)).write_pdf())


def certificate_response(grant: ConsentGrant) -> HttpResponse:
    response = HttpResponse(certificate_pdf(grant), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="consent-{grant.pk}.pdf"'
    return response
