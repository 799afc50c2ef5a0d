# 002_crash.pl
#   A backend killed with SIGKILL in the middle of writing a large import:
#   after crash recovery no client, group, run or issue of that import
#   exists, an import committed before the crash is intact, and the same
#   file then imports whole.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use PtImportTest;
use Test::More;

# Rows in the large file; ptimport.max_rows and max_bytes are raised for it.
my $big_rows = 200_000;

# Accounts: one import committed before the crash, and the killed one.
my $kept_account = 1;
my $killed_account = 2;

# restart_after_crash brings the server back by itself after the kill, as in
# production; autovacuum stays off so that nothing but recovery runs.
my $node = start_node(
	'crash', qq{
ptimport.max_rows = 1000000
ptimport.max_bytes = '100MB'
restart_after_crash = on
autovacuum = off
});
load_files($node, big => client_file($big_rows), small => small_file());

# ---- An import committed before the crash ----
my ($ret, $out, $err) =
  $node->psql('postgres', import_sql('small', $kept_account, 'count(*)'));
like($err, qr/imported 2 of 3 rows: 2 inserted/, 'the small import commits');
is(written($node, $kept_account), '2|1|1|1', 'it wrote 2 clients, 1 group, its run and 1 issue');

# ---- The backend is killed while it writes the large import ----
#
# The client table's file grows only while the upsert inserts rows: once a
# control session sees it grow by a megabyte, clients are being inserted
# (and the groups, inserted just before, are in place) in a transaction
# that never commits.

my $bg = $node->background_psql('postgres', on_error_stop => 0);
my $pid = bg_safe($bg, 'SELECT pg_catalog.pg_backend_pid()');
my $ctl = $node->background_psql('postgres');
my $size_sql = "SELECT pg_catalog.pg_relation_size('ptimport.client')";
my $base_size = bg_safe($ctl, $size_sql);
my $log_offset = -s $node->logfile;

$bg->query_until(qr/import started/,
	"\\echo import started\n"
	  . import_sql('big', $killed_account, 'count(*)') . ";\n");
wait_until($ctl, "$size_sql > $base_size + 1024 * 1024");
my $grown = bg_safe($ctl, "$size_sql - $base_size");
cmp_ok($grown, '>', 1024 * 1024, 'the import is writing client rows');
is(bg_safe($ctl, "SELECT state FROM pg_catalog.pg_stat_activity WHERE pid = $pid"),
	'active', 'the import is still running');
diag sprintf("killing the import with %d kB of client rows written", $grown / 1024);
$ctl->quit;

is(kill('KILL', $pid), 1, 'the importing backend is sent SIGKILL');
pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr},
	qr/server closed the connection unexpectedly|connection to server was lost/);
like($bg->{stderr}, qr/server closed the connection unexpectedly|connection to server was lost/,
	'the importing session is gone');
# psql has exited by itself: its \q would meet a closed pipe.
$bg->{run}->finish;

# The postmaster ends every backend, reinitializes and replays the WAL.
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server is back');
ok($node->log_contains(qr/server process \(PID $pid\) was terminated by signal 9/, $log_offset),
	'the log shows the backend was killed');
ok($node->log_contains(qr/database system was not properly shut down; automatic recovery in progress/,
		$log_offset),
	'the log shows crash recovery');

is(written($node, $killed_account), '0|0|0|0',
	'after recovery the killed import left no client, group, run or issue');
cmp_ok($node->safe_psql('postgres', "$size_sql - $base_size"), '>=', $grown,
	'the rows it had written are still in the table file, but none is visible');
is(written($node, $kept_account), '2|1|1|1',
	'the import committed before the crash is intact');

# ---- The same file imports whole after recovery ----
($ret, $out, $err) = $node->psql('postgres', import_sql('big', $killed_account, 'count(*)'));
like($err, qr/imported $big_rows of $big_rows rows: $big_rows inserted, 0 updated, 0 unchanged; 0 rows skipped; 20 groups created/,
	'the killed import runs to the end when run again');
is(written($node, $killed_account), "$big_rows|20|1|0",
	'it wrote every client, group and its run');

$node->stop;
done_testing();
