"""The backends package stays pure: workers and CLIs use it without Django, and importing it
loads no model runtime (those load when a backend is checked or loaded)."""

import subprocess
import sys

from tests.support.paths import ROOT


def test_importing_the_backends_does_not_import_django_or_model_runtimes():
    code = (
        "import sys, synth_workers.backends as b, synth_workers.backends.espeak, "
        "synth_workers.backends.piper, synth_workers.backends.piper_config; "
        "b.available_backends(); "
        "loaded = [m for m in ('django', 'onnx', 'onnxruntime', 'piper') if m in sys.modules]; "
        "assert not loaded, loaded; print(len(b.__all__))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) >= 10
