"""Credits: balances, an append-only ledger, holds before a run and per-generation settlement."""

from emprops.credits.errors import PaymentRequiredError
from emprops.credits.service import CreditService

__all__ = ["CreditService", "PaymentRequiredError"]
