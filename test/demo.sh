#!/bin/bash
# The demo: installs what ptimport needs, builds and installs it, starts a
# throwaway PostgreSQL 15 cluster, imports test/data/sample_clients.csv for
# account 1 and prints the report, the clients and the run log.  The cluster
# is dropped at the end.
#
# Usage: test/demo.sh     (as root, or a user with sudo)
#   PG_CONFIG picks the PostgreSQL installation (default: the system's 15).
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

test/install-deps.sh
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
make -s PG_CONFIG="$PG_CONFIG"
"${sudo_cmd[@]}" make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

# Inside the throwaway cluster: the file is read client-side by psql and sent
# as a bytea parameter, as an application would.
test/with-server.sh bash -c '
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION ptimport;
\echo
\echo === Importing test/data/sample_clients.csv into account 1
\set file \`base64 -w0 test/data/sample_clients.csv\`
SELECT line_no, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'"'"'file'"'"', '"'"'base64'"'"'), 1,
                                source_name => '"'"'sample_clients.csv'"'"');
\echo === The clients now stored
SELECT internal_id, first_name, last_name, birth_year, gender, email, mobile,
       diagnosis_code, g.name AS client_group
FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 1 ORDER BY internal_id;
\echo === The run log
SELECT run_id, source_name, rows_total, rows_inserted, rows_updated, rows_unchanged,
       rows_failed, rows_warned, groups_created FROM ptimport.import_run;
\echo === The same file again, as a dry run: nothing would change
SELECT count(*) AS problems
FROM ptimport.pt_import_clients(decode(:'"'"'file'"'"', '"'"'base64'"'"'), 1, dry_run => true);
SQL
'
