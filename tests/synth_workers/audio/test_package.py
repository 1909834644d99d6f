"""The audio package stays pure signal code: usable by workers and CLIs without Django."""

import subprocess
import sys

from tests.support.paths import ROOT


def test_importing_the_audio_package_does_not_import_django():
    code = (
        "import sys, synth_workers.audio as a; "
        "assert 'django' not in sys.modules, 'django imported'; print(len(a.__all__))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) >= 20
