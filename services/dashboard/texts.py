"""The login page, in Danish or English (the other pages are drawn by static/app.js)."""

import html

TEXTS = {
    "da": {
        "title": "casetrack – log ind",
        "heading": "Log ind",
        "username": "Brugernavn",
        "password": "Adgangskode",
        "submit": "Log ind",
        "switch": "English",
        "switch_lang": "en",
        "login_failed": "Forkert brugernavn eller adgangskode.",
        "login_unavailable": "Login er ikke sat op (CASETRACK_SIGNING_KEY mangler).",
        "intro": "Nøgletal, advarsler og dobbelt bundlinje for Housing First-indsatsen.",
    },
    "en": {
        "title": "casetrack – log in",
        "heading": "Log in",
        "username": "Username",
        "password": "Password",
        "submit": "Log in",
        "switch": "Dansk",
        "switch_lang": "da",
        "login_failed": "Wrong username or password.",
        "login_unavailable": "Login is not set up (CASETRACK_SIGNING_KEY is missing).",
        "intro": "Key figures, alerts and the double bottom line of the Housing First work.",
    },
}


def login_page(lang: str, error: str | None, username: str) -> str:
    t = TEXTS[lang]
    alert = f'<p class="error" role="alert" id="login-error">{html.escape(t[error])}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(t["title"])}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/app.css">
</head>
<body class="login">
<main class="login-box">
<h1>casetrack</h1>
<p>{html.escape(t["intro"])}</p>
<h2>{html.escape(t["heading"])}</h2>
{alert}
<form method="post" action="/login">
<label for="username">{html.escape(t["username"])}</label>
<input id="username" name="username" autocomplete="username" required value="{html.escape(username)}">
<label for="password">{html.escape(t["password"])}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{html.escape(t["submit"])}</button>
</form>
<p><a href="/login?lang={t["switch_lang"]}" lang="{t["switch_lang"]}"
   id="switch-lang">{html.escape(t["switch"])}</a></p>
</main>
</body>
</html>"""
