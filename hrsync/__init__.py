# Deliberately empty: `import hrsync.sync` must work in a bare interpreter (no Django, no Celery).
# The Celery app is hrsync/celery.py; `celery -A hrsync` finds it there, and HrsyncConfig.ready()
# imports it so that @shared_task binds to it in the web process too.
