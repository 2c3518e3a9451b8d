"""`python -m vision analyze ...` (a file or folder), `worker` (configured sources), `models ...` (train/evaluate/export),
`plates ...` (export/evaluate/read licence plates)."""
import sys

from vision.analyze import main as analyze_main
from vision.model_cli import models
from vision.plates.cli import plates
from vision.worker_main import run_worker

command = sys.argv[1] if len(sys.argv) > 1 else None
if command == "worker":
    sys.exit(run_worker())
if command == "models":
    models(args=sys.argv[2:], prog_name="python -m vision models")
if command == "plates":
    plates(args=sys.argv[2:], prog_name="python -m vision plates")
sys.exit(analyze_main())
