"""The URIs token and collection metadata may hold: `ipfs://CID[/path]` (content addressed, what
we publish) and `https://host/...` (external links, hosted art). Anything else (http://, data:,
relative paths, a CID we cannot parse) is refused: a marketplace would show a broken image."""

from __future__ import annotations

from urllib.parse import urlsplit

from emprops.core.errors import EmpropsError
from emprops.ipfs import CID

MAX_URI_LENGTH = 2048
_FORBIDDEN = set(' \t\r\n"<>\\^`{|}')


def ipfs_uri(cid: CID | str, path: str = "") -> str:
    """`ipfs://CID` or `ipfs://CID/path`."""
    return f"ipfs://{cid}/{path}" if path else f"ipfs://{cid}"


def uri_problem(uri: str, *, allow_ipfs: bool = True) -> str | None:
    """Why `uri` is not a well-formed ipfs:// or https:// URI, or None when it is."""
    if not uri:
        return "is empty"
    if len(uri) > MAX_URI_LENGTH:
        return f"is longer than {MAX_URI_LENGTH} characters"
    bad = sorted(_FORBIDDEN.intersection(uri))
    if bad:
        return f"contains characters a URI may not hold unescaped ({''.join(bad)!r}): {uri!r}"
    if uri.startswith("ipfs://"):
        return _ipfs_problem(uri) if allow_ipfs else f"must be an https:// URL, not {uri!r}"
    if uri.startswith("https://"):
        parts = urlsplit(uri)
        if not parts.hostname:
            return f"has no host: {uri!r}"
        try:
            _ = parts.port
        except ValueError:
            return f"has an invalid port: {uri!r}"
        return None
    scheme = uri.split(":", 1)[0] if ":" in uri else ""
    wanted = "ipfs://CID/... or https://..." if allow_ipfs else "https://..."
    if scheme == "http":
        return f"must use https, not http: {uri!r}"
    return f"must be {wanted}, not {uri!r}"


def _ipfs_problem(uri: str) -> str | None:
    rest = uri[len("ipfs://") :]
    cid_text, _, path = rest.partition("/")
    if cid_text.startswith("ipfs"):
        return f"repeats the scheme (ipfs://ipfs/...): {uri!r}"
    try:
        CID.parse(cid_text)
    except EmpropsError as exc:
        return f"has an invalid CID {cid_text!r}: {exc.message}"
    if path:
        segments = path.split("/")
        # A trailing "/" (a folder, as a base URI) is fine; empty or dot segments inside are not.
        inner = segments[:-1] if segments[-1] == "" else segments
        if any(s in ("", ".", "..") for s in inner):
            return f"has an empty or dot path segment: {uri!r}"
    return None
