"""`python -m vision analyze VIDEO_OR_FOLDER --model PATH --zones ZONES.yaml --out DIR [--rate 2]`."""
import sys

from vision.analyze import main

sys.exit(main())
