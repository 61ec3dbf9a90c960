"""Assets: the files steps stored (flat files), with the inputs that made them."""

from emprops.assets.service import AssetService, get_owned_asset, record_output

__all__ = ["AssetService", "get_owned_asset", "record_output"]
