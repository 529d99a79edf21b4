"""Limits and defaults of the catalogue API, in one place.

Clients read these from the API's description endpoint, so changing one here changes what
every client is told; the code that enforces a limit must read it from here too.
"""

# listing
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# search
MAX_QUERY_LENGTH = 80
MIN_TERM_LENGTH = 2

# images
THUMBNAIL_WIDTH = 160
THUMBNAIL_HEIGHT = 120


def describe() -> dict[str, int]:
    """The limits as the description endpoint publishes them."""
    return {name.lower(): value for name, value in globals().items() if name.isupper()}
