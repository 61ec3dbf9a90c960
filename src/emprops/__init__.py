"""EmProps: open, self-hostable platform for AI-generated NFT collections."""

__version__ = "0.1.0"
