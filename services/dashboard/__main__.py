from runtime.http import serve
from services.dashboard.bootstrap import create_app
from services.dashboard.config import load

config = load()
serve(create_app(config), config.settings)
