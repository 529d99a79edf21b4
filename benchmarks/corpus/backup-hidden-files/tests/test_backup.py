from backup import files_to_back_up


def test_hidden_files_are_left_out_by_default():
    assert files_to_back_up(["notes.txt", ".cache", "photo.jpg"]) == ["notes.txt", "photo.jpg"]


def test_hidden_files_on_request():
    names = ["notes.txt", ".bashrc"]
    assert files_to_back_up(names, include_hidden=True) == ["notes.txt", ".bashrc"]


def test_temporary_files_are_never_copied():
    names = ["draft.txt~", "report.tmp", ".report.swp", "report.txt"]
    assert files_to_back_up(names, include_hidden=True) == ["report.txt"]


def test_plain_names_are_all_copied_in_order():
    assert files_to_back_up(["b.txt", "a.py", "c.md"]) == ["b.txt", "a.py", "c.md"]
