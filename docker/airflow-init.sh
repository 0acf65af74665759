#!/bin/bash
# One-shot before the Airflow services start: metadata schema, connector schema, UI login.
set -euo pipefail

airflow db migrate
edfi-sync db init
# The simple auth manager reads its passwords from this file (shared volume); the password
# comes from .env so it is neither generated per container nor printed in a log.
python - <<'PY'
import json, os
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w") as f:
    json.dump({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, f)
os.chmod(path, 0o600)
PY
echo "airflow-init: metadata and edfi_sync schemas ready; UI user ${AIRFLOW_ADMIN_USER}"
