"""A product catalogue API: listing products page by page."""
