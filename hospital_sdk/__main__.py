"""``python -m hospital_sdk`` runs the command-line interface."""

from hospital_sdk.cli.main import app

if __name__ == "__main__":
    app()
