"""Campaigns and lessons through the API (to come: see the issue's item 3)."""

from ninja import Router

router = Router()
