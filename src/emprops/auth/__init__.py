"""Authentication: Sign-In with Ethereum, JWT sessions with rotating refresh tokens, API keys."""

from emprops.auth.dependencies import AdminPrincipal, CurrentPrincipal
from emprops.auth.service import AuthService, Principal

__all__ = ["AdminPrincipal", "AuthService", "CurrentPrincipal", "Principal"]
