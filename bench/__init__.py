"""Benchmarks: each prints its figure and a ratio against a baseline measured in the same run.

They run vtui as the `vtui` command does, at its frame rate (set before Textual is imported,
which reads it once); the bare-Textual baselines share it, so the ratios compare like with
like."""

from vtui.ui.frame_rate import use_frame_rate

use_frame_rate()
