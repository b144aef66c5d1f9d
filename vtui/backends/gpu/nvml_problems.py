"""NVML's error codes in words a person at the terminal can act on."""

from __future__ import annotations

import pynvml

# Code -> what it means here and what to do. Codes not listed read as NVML's own message.
_WORDS: dict[int, str] = {
    pynvml.NVML_ERROR_LIBRARY_NOT_FOUND: (
        "no NVIDIA driver here: libnvidia-ml.so.1 was not found (inside a container, start "
        "it with --gpus all)"
    ),
    pynvml.NVML_ERROR_DRIVER_NOT_LOADED: (
        "the NVIDIA kernel driver is not loaded: `nvidia-smi` will say the same; load it "
        "(modprobe nvidia) or reboot after installing the driver"
    ),
    pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH: (
        "driver/library version mismatch: the NVIDIA driver was updated but the old kernel "
        "module is still loaded; reboot (or reload the nvidia modules)"
    ),
    pynvml.NVML_ERROR_NO_PERMISSION: (
        "permission denied by the NVIDIA driver: this user may not open /dev/nvidia*; run "
        "as a user in the group that owns them, or as root"
    ),
    pynvml.NVML_ERROR_GPU_IS_LOST: (
        "the GPU is lost (it fell off the bus): `dmesg` shows an Xid 79; it needs a reset "
        "(nvidia-smi -r) or a reboot"
    ),
    pynvml.NVML_ERROR_RESET_REQUIRED: "the GPU needs a reset (nvidia-smi -r) or a reboot",
    pynvml.NVML_ERROR_UNINITIALIZED: "NVML was shut down while vtui was reading it",
    pynvml.NVML_ERROR_TIMEOUT: "the NVIDIA driver did not answer in time",
}


def in_words(exc: pynvml.NVMLError) -> str:
    words = _WORDS.get(getattr(exc, "value", -1))
    if words is not None:
        return words
    try:
        return f"NVML error: {exc}"
    except pynvml.NVMLError:  # an unknown code asks the (missing) library for its text
        return f"NVML error code {getattr(exc, 'value', '?')}"


def is_lost(exc: pynvml.NVMLError) -> bool:
    """This GPU is gone until a reset; the others may still answer."""
    return getattr(exc, "value", None) in (
        pynvml.NVML_ERROR_GPU_IS_LOST,
        pynvml.NVML_ERROR_RESET_REQUIRED,
    )
