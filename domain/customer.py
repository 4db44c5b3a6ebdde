"""A customer: a WhatsApp number (wa_id) with a price tier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.product import Tier


@dataclass
class Customer:
    user_id: str
    tier: Tier = Tier.BRONZE
    created_at: datetime | None = None
    business_user_id: str | None = None
    language: str | None = None  # None: the shop's language
