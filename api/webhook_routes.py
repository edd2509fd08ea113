"""Webhook endpoints, their deliveries and test events (manage scope)."""

from ninja import Router

router = Router()
