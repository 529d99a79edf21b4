import pytest

from paging import InvalidPage, Paginator


def test_num_pages_rounds_up():
    assert Paginator(range(25), 10).num_pages == 3
    assert Paginator(range(30), 10).num_pages == 3


def test_empty_list_has_one_empty_page():
    paginator = Paginator([], 10)
    page = paginator.page(1)
    assert page.items == [] and page.first_index == 0 and page.last_index == 0


def test_page_contents_and_indexes():
    page = Paginator(list("abcdefg"), 3).page(2)
    assert page.items == ["d", "e", "f"]
    assert (page.first_index, page.last_index) == (4, 6)


def test_navigation_flags():
    paginator = Paginator(range(25), 10)
    assert paginator.page(1).has_previous is False
    assert paginator.page(2).has_next is True
    assert paginator.page(3).has_next is False


def test_out_of_range_pages_raise():
    paginator = Paginator(range(5), 2)
    with pytest.raises(InvalidPage):
        paginator.page(0)
    with pytest.raises(InvalidPage):
        paginator.page(4)


def test_page_range_lists_every_page():
    assert list(Paginator(range(25), 10).page_range) == [1, 2, 3]


def test_iterating_visits_the_last_partial_page():
    pages = list(Paginator(range(7), 3))
    assert [page.items for page in pages] == [[0, 1, 2], [3, 4, 5], [6]]


def test_per_page_must_be_positive():
    with pytest.raises(ValueError):
        Paginator([1], 0)
