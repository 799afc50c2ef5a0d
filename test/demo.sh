#!/bin/bash
# The demo: installs what ptimport needs, builds and installs it, starts a
# throwaway PostgreSQL 15 cluster and shows ptimport as a practice meets it:
# an application role that may act for one account imports the file German
# Excel wrote (Windows-1252, semicolons, Excel-mangled values), sees its
# clients through the views, downloads the rows to fix, re-imports the
# fixed file, and undoes an import.  The cluster is dropped at the end.
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

# As root, the server runs as postgres, who must read the files.
work=$(mktemp -d /tmp/ptimport-demo.XXXXXX)
cp test/data/real/excel-de-semicolon-1252.csv "$work/"
chmod -R a+rX "$work"
trap 'rm -rf "$work"' EXIT

# Inside the throwaway cluster: the file is read client-side by psql and
# sent as a bytea parameter, as an application would.
test/with-server.sh env DEMO="$work" bash -c '
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<SQL
\pset footer off
CREATE EXTENSION ptimport;
\echo
\echo === A superuser sets up the practice application role for account 42
CREATE ROLE practice_app;
SELECT ptimport.grant_app('"'"'practice_app'"'"');
SELECT ptimport.grant_account('"'"'practice_app'"'"', 42);

SET ROLE practice_app;
SET ptimport.account_id = 42;
\echo === German Excel wrote this file: Windows-1252, semicolons, no header
\! iconv -f cp1252 -t utf-8 \$DEMO/excel-de-semicolon-1252.csv
\echo
\echo === Importing it as practice_app, for account 42 (encoding and delimiter detected)
\set file \`base64 -w0 \$DEMO/excel-de-semicolon-1252.csv\`
SELECT line_no, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'"'"'file'"'"', '"'"'base64'"'"'),
                                source_name => '"'"'Klienten.csv'"'"');
SELECT ptimport.last_run_id() AS run \gset
\echo === The clients of account 42, through the view
SELECT internal_id, first_name, last_name, birth_year, gender, email, mobile,
       diagnosis_code, client_group
FROM ptimport.account_clients ORDER BY internal_id;
\echo === The run log says how the file was read
SELECT run_id, source_name, encoding, delimiter, rows_total, rows_inserted,
       rows_failed, rows_warned, groups_created, run_by
FROM ptimport.account_runs;
\echo === The rows to fix, as the file the practice downloads
SELECT convert_from(substring(ptimport.failed_rows(:run) FROM 4), '"'"'UTF8'"'"') AS failed_rows;
\echo === The practice writes the real internal_id over 5,58199E+12 and imports the same file again
SELECT convert_from(substring(ptimport.failed_rows(:run) FROM 4), '"'"'UTF8'"'"') AS fixed \gset
SELECT line_no, code, message
FROM ptimport.pt_import_clients(convert_to(replace(:'"'"'fixed'"'"', '"'"'5,58199E+12'"'"', '"'"'PT-3004'"'"'), '"'"'UTF8'"'"'));
SELECT ptimport.last_run_id() AS fix_run \gset
SELECT internal_id, first_name, last_name FROM ptimport.account_clients ORDER BY internal_id;
\echo === That second import was the wrong one after all: undo it
SELECT * FROM ptimport.revert_run(:fix_run);
SELECT internal_id, first_name, last_name FROM ptimport.account_clients ORDER BY internal_id;
\echo === practice_app cannot read or write the tables, nor reach another account
\set ON_ERROR_STOP 0
SELECT count(*) FROM ptimport.client;
SELECT set_config('"'"'ptimport.account_id'"'"', '"'"'43'"'"', false);
SELECT count(*) FROM ptimport.account_clients;
SQL
'
