import pytest

from catalog import settings
from catalog.pages import page, page_size, search_terms

PRODUCTS = [f"product-{n}" for n in range(250)]


def test_default_page_size():
    assert page_size(None) == settings.DEFAULT_PAGE_SIZE
    assert len(page(PRODUCTS, 1).items) == 20


def test_small_pages_are_kept():
    assert page_size(5) == 5
    assert page_size(0) == 1


def test_large_pages_are_capped_at_the_api_limit():
    assert page_size(80) == 80
    assert page_size(1000) == settings.MAX_PAGE_SIZE


def test_pages_split_the_listing():
    last = page(PRODUCTS, 3, requested_size=100)
    assert last.items == PRODUCTS[200:]
    assert last.total_pages == 3 and not last.has_next


def test_missing_pages_are_refused():
    with pytest.raises(ValueError):
        page(PRODUCTS, 14)


def test_search_terms():
    assert search_terms("Red  Shoes") == ["red", "shoes"]
    assert len(search_terms("x " * 100)) == 40
