"""Where the shared corpus of real workbooks is: ../shared/corpus beside the checkout
(as CI lays it out), or $XLPLUGIN_SHARED/corpus."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XLPLUGIN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
GOOD = CORPUS / "good"
BAD = CORPUS / "bad"
