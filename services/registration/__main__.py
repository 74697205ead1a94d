from runtime.http import serve
from runtime.settings import Settings
from services.registration.bootstrap import DEFAULT_PORT, create_app

settings = Settings.from_env("registration", DEFAULT_PORT)
serve(create_app(settings), settings)
