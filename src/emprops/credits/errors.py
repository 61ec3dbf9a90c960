"""Credit errors."""

from __future__ import annotations

from emprops.core.errors import EmpropsError, ErrorCode


class PaymentRequiredError(EmpropsError):
    """Not enough available credits for what was asked; nothing was held or queued."""

    code = ErrorCode.PAYMENT_REQUIRED
    http_status = 402
