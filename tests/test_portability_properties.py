"""Property tests for issue 18's parsers: console output on a cp1252 stream, and .env encodings."""
from __future__ import annotations

import io

import pytest

pytest.importorskip("hypothesis")  # the test extra's pin (added to pyproject by issues 14 and 17)

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from labkit.console import ASCII, setup_console  # noqa: E402
from labkit.settings import read_env_file  # noqa: E402


def cp1252_stream() -> tuple[io.TextIOWrapper, io.BytesIO]:
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding="cp1252", write_through=True), raw


@hsettings(max_examples=200, deadline=None)
@given(st.text())
def test_nothing_printed_stops_a_cp1252_console(text):
    stream, raw = cp1252_stream()
    setup_console(stream)
    stream.write(text)  # never raises
    expected = "".join(ch if ch.encode("cp1252", errors="ignore") else ASCII.get(ch, "?") for ch in text)
    assert raw.getvalue().decode("cp1252") == expected


values = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="\"'\\#$ "),
                 min_size=1, max_size=30)


@hsettings(max_examples=150, deadline=None)
@given(st.dictionaries(st.from_regex(r"LABKIT_[A-Z]{1,10}", fullmatch=True), values, max_size=5),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]))
def test_any_dotenv_reads_the_same_in_every_accepted_encoding(tmp_path_factory, variables, encoding):
    env = tmp_path_factory.mktemp("env") / ".env"
    env.write_bytes("".join(f"{k}={v}\n" for k, v in variables.items()).encode(encoding))
    assert read_env_file(env) == variables
