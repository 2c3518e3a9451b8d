"""`python -m vision analyze ...` (a file or folder), `worker` (configured sources), `models ...` (train/evaluate/export)."""
import sys

from vision.analyze import main as analyze_main
from vision.model_cli import models
from vision.worker_main import run_worker

command = sys.argv[1] if len(sys.argv) > 1 else None
if command == "worker":
    sys.exit(run_worker())
if command == "models":
    models(args=sys.argv[2:], prog_name="python -m vision models")
sys.exit(analyze_main())
