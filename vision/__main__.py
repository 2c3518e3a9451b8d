"""`python -m vision analyze ...` (one file or folder), `python -m vision worker` (configured sources)."""
import sys

from vision.analyze import main as analyze_main
from vision.worker_main import run_worker

if len(sys.argv) > 1 and sys.argv[1] == "worker":
    sys.exit(run_worker())
sys.exit(analyze_main())
