# 002_crash.pl
#   A backend killed with SIGKILL in the middle of writing a large import:
#   after crash recovery no client, group, run or issue of that import
#   exists, an import committed before the crash is intact, and the same
#   file then imports whole.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# Rows in the large file; ptimport.max_rows and max_bytes are raised for it.
my $big_rows = 200_000;

# Accounts: one import committed before the crash, and the killed one.
my $kept_account = 1;
my $killed_account = 2;

# A deterministic client file of $n valid rows in 20 groups.
sub client_file
{
	my ($n) = @_;
	my $csv = '';

	for my $i (1 .. $n)
	{
		$csv .= sprintf("P%07d,First%d,Last%d,%d,%s,p%d\@example.org,0041%09d,F%02d,Group %d\n",
			$i, $i, $i, 1940 + $i % 80, $i % 2 ? 'm' : 'f', $i, $i, $i % 100,
			$i % 20 + 1);
	}
	return $csv;
}

# Three rows, one with an invalid gender: 2 imported, 1 skipped.
my $small_csv = "S1,Ann,Smith,1980,f,,,,Team A\n"
  . "S2,Bob,Jones,1975,m,,,,team a\n"
  . "S3,Cy,Brown,1990,x,,,,Team A\n";

# restart_after_crash brings the server back by itself after the kill, as in
# production; autovacuum stays off so that nothing but recovery runs.
my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init(extra => [ '--encoding=UTF8', '--locale=C.UTF-8' ]);
$node->append_conf(
	'postgresql.conf', qq{
ptimport.max_rows = 1000000
ptimport.max_bytes = '100MB'
restart_after_crash = on
autovacuum = off
});
$node->start;

my $dir = PostgreSQL::Test::Utils::tempdir;
PostgreSQL::Test::Utils::append_to_file("$dir/big.csv", client_file($big_rows));
PostgreSQL::Test::Utils::append_to_file("$dir/small.csv", $small_csv);
$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION ptimport;
CREATE TABLE public.test_file (name text PRIMARY KEY, data bytea NOT NULL);
INSERT INTO public.test_file
	VALUES ('big', pg_catalog.pg_read_binary_file('$dir/big.csv')),
		   ('small', pg_catalog.pg_read_binary_file('$dir/small.csv'));
});

# Everything the import writes, for one account, as "clients|groups|runs|issues".
sub written
{
	my ($account) = @_;
	return $node->safe_psql(
		'postgres', qq{
SELECT (SELECT count(*) FROM ptimport.client WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.client_group WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.import_run WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.import_issue WHERE account_id = $account)});
}

sub import_sql
{
	my ($file, $account) = @_;
	return "SELECT count(*) FROM ptimport.pt_import_clients("
	  . "(SELECT data FROM public.test_file WHERE name = '$file'), $account)";
}

# Runs $sql in a background session and dies if it fails.  BackgroundPsql
# keeps stderr across queries, so it is emptied first.
sub bg_safe
{
	my ($bg, $sql) = @_;
	$bg->{stderr} = '';
	return $bg->query_safe($sql);
}

# ---- An import committed before the crash ----
my ($ret, $out, $err) =
  $node->psql('postgres', import_sql('small', $kept_account));
like($err, qr/imported 2 of 3 rows: 2 inserted/, 'the small import commits');
is(written($kept_account), '2|1|1|1', 'it wrote 2 clients, 1 group, its run and 1 issue');

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
	"\\echo import started\n" . import_sql('big', $killed_account) . ";\n");
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
usleep(10_000)
  until bg_safe($ctl, "$size_sql > $base_size + 1024 * 1024") eq 't'
  or time > $deadline;
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

is(written($killed_account), '0|0|0|0',
	'after recovery the killed import left no client, group, run or issue');
cmp_ok($node->safe_psql('postgres', "$size_sql - $base_size"), '>=', $grown,
	'the rows it had written are still in the table file, but none is visible');
is(written($kept_account), '2|1|1|1',
	'the import committed before the crash is intact');

# ---- The same file imports whole after recovery ----
($ret, $out, $err) = $node->psql('postgres', import_sql('big', $killed_account));
like($err, qr/imported $big_rows of $big_rows rows: $big_rows inserted, 0 updated, 0 unchanged; 0 rows skipped; 20 groups created/,
	'the killed import runs to the end when run again');
is(written($killed_account), "$big_rows|20|1|0",
	'it wrote every client, group and its run');

$node->stop;
done_testing();
