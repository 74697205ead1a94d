from runtime.http import serve
from runtime.settings import Settings
from services.projections.bootstrap import DEFAULT_PORT, create_app

settings = Settings.from_env("projections", DEFAULT_PORT)
serve(create_app(settings), settings)
