"""The HTTP edge: Strata's REST API at ``/api/v1``, with authentication and permissions.

    strata server --port 8765          # uvicorn over create_app(root)

``app.py`` builds the FastAPI application around one Workspace per process; ``auth.py`` says
who calls and what they may do; ``errors.py`` maps Strata's error tree to HTTP statuses; the
``*_routes.py`` modules are the endpoints, each a few lines over the Python API the CLI uses.
"""
