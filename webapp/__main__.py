"""`python -m webapp serve` runs the platform; `python -m webapp grid build ...` builds a city grid."""
from flask.cli import FlaskGroup

from webapp import create_app

cli = FlaskGroup(create_app=create_app, help="GridPatrol 网格巡查调度平台")

if __name__ == "__main__":
    cli()
