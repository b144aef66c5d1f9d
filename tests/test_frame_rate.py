"""vtui lets Textual redraw up to 120 times a second, unless the user chose a rate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.helpers import REPO

UPDATE_PERIOD_AFTER_MAIN = """
from vtui.cli.main import main
try:
    main(["--version"])
except SystemExit:
    pass
import textual.screen
print(textual.screen.UPDATE_PERIOD)
"""


@pytest.mark.parametrize(("chosen", "period"), [(None, 1 / 120), ("30", 1 / 30)])
def test_the_screen_redraws_at_vtuis_rate_unless_the_user_chose_one(
    chosen: str | None, period: float
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if chosen is not None:
        env["TEXTUAL_FPS"] = chosen
    out = subprocess.run(
        [sys.executable, "-c", UPDATE_PERIOD_AFTER_MAIN],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    ).stdout
    assert float(out.strip().splitlines()[-1]) == pytest.approx(period)
