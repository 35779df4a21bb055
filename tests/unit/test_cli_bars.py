"""Progress bars are drawn only when stdout is a terminal."""

from __future__ import annotations

from tqdm import tqdm

from cli.main import bars_off


def test_bars_off_silences_even_a_bar_asked_for_explicitly() -> None:
    bars_off()
    bars_off()  # a second call changes nothing
    with tqdm(total=3, disable=False) as bar:
        assert bar.disable
