"""The message catalogs: <lang>/LC_MESSAGES/stager.po (source), stager.mo (compiled,
read by stager.i18n), and stager.pot, the template extracted by scripts/i18n.py."""
