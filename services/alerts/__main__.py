from runtime.http import serve
from runtime.settings import Settings
from services.alerts.bootstrap import DEFAULT_PORT, create_app

settings = Settings.from_env("alerts", DEFAULT_PORT)
serve(create_app(settings), settings)
