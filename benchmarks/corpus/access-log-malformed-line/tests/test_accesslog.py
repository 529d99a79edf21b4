from accesslog import Request, parse_line, parse_log, status_counts, top_paths

LOG = [
    '10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326',
    '10.0.0.2 - bob [10/Oct/2024:13:55:40 +0000] "POST /login?next=/ HTTP/1.1" 302 -',
    "### log rotated ###",
    '10.0.0.1 - - [10/Oct/2024:13:56:01 +0000] "GET /missing HTTP/1.1" 404 153',
    '10.0.0.3 - - [10/Oct/2024:13:56:02 +0000] "GET /index.html HTTP/1.1" 200 2326',
    '10.0.0.9 - - [10/Oct/2024:13:5',
]


def test_parse_a_request():
    assert parse_line(LOG[0]) == Request("10.0.0.1", "GET", "/index.html", 200, 2326)


def test_query_string_is_dropped_and_dash_size_is_zero():
    request = parse_line(LOG[1])
    assert request.path == "/login" and request.size == 0 and request.status == 302


def test_garbage_line_is_none():
    assert parse_line("### log rotated ###") is None


def test_parse_log_skips_bad_lines():
    assert len(parse_log(LOG)) == 4


def test_status_classes():
    requests = [parse_line(line) for line in (LOG[0], LOG[1], LOG[3], LOG[4])]
    assert status_counts(requests) == {"2xx": 2, "3xx": 1, "4xx": 1}


def test_top_paths():
    requests = [parse_line(line) for line in (LOG[0], LOG[3], LOG[4])]
    assert top_paths(requests, 2) == [("/index.html", 2), ("/missing", 1)]
