# 006_replica.pl
#   A streaming standby made with pg_basebackup: after imports and inbox
#   runs on the primary it has exactly the same rows and catalog; a dry run
#   works on it (as the superuser and as an application role) and says the
#   run is not logged; a real import or a submission fails there with
#   ptimport's read-only error (the inbox worker with PostgreSQL's) and
#   changes nothing; after promotion,
#   imports and the inbox worker work and take new ids.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use PtImportTest;
use Test::More;

my ($acc1, $acc2) = (1, 2);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, extra => [ '--encoding=UTF8', '--locale=C.UTF-8' ]);
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->start;

# Runs $sql in database practice of $node as $role (default: the
# superuser); returns psql's exit code, stdout and stderr.  VERBOSITY
# verbose makes psql print each message's SQLSTATE.  run_ok dies if the
# statement fails.
sub run
{
	my ($node, $sql, $role) = @_;
	return $node->psql('practice', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ defined $role ? ('-U', $role) : () ]);
}

sub run_ok
{
	my ($node, $sql, $role) = @_;
	return psql_ok($node, 'practice', "\\set VERBOSITY verbose\n$sql", $role);
}

# ---- The primary: imports and inbox runs, before and after the backup ----

$primary->safe_psql('postgres', 'CREATE DATABASE practice');
run_ok($primary, qq{
CREATE EXTENSION ptimport;
CREATE ROLE regress_practice_app LOGIN;
SELECT ptimport.grant_app('regress_practice_app');
SELECT ptimport.grant_account('regress_practice_app', $acc1);
CREATE ROLE regress_worker LOGIN;
SELECT ptimport.grant_worker('regress_worker');
SELECT count(*) FROM ptimport.pt_import_clients(@{[ sql_bytes(client_file(200, 'A')) ]}, $acc1);
SELECT ptimport.submit(@{[ sql_bytes(small_file()) ]}, $acc2, 'first.csv');
});
run_ok($primary, 'CALL ptimport.drain_inbox()', 'regress_worker');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# Streamed after the backup: an update of account 1, new clients of account
# 2, an inbox run with a file refused whole, and a file left queued.
run_ok($primary, "SET ptimport.account_id = $acc1;\n"
	  . "SELECT count(*) FROM ptimport.pt_import_clients(" . sql_bytes(client_file(200, 'B')) . ");\n"
	  . "SELECT ptimport.submit('\\x41004200'::bytea, source_name => 'utf16.csv');",
	'regress_practice_app');
run_ok($primary, "SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes(client_file(30, 'C')) . ", $acc2);\n"
	  . "SELECT ptimport.submit(" . sql_bytes("Q1,Queued,Client,1980,f\n") . ", $acc2, 'queued.csv');");
run_ok($primary, 'SELECT ptimport.process_inbox(1)', 'regress_worker');
run_ok($primary, 'SELECT ptimport.submit(' . sql_bytes("Q2,Later,Client,1981,m\n") . ", $acc2, 'later.csv')");
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

# ---- The standby has the same rows ----

my $primary_rows = table_rows($primary, 'practice');
is( $primary->safe_psql('practice',
		'SELECT string_agg(source_name || \' \' || state, \', \' ORDER BY file_id) FROM ptimport.inbox'),
	'first.csv done, utf16.csv failed, queued.csv queued, later.csv queued',
	'the primary has done, failed and queued files');
rows_equal(table_rows($standby, 'practice'), $primary_rows,
	'the standby has exactly the rows of the primary');
catalogs_equal(catalog($standby, 'practice'), catalog($primary, 'practice'),
	'and the same catalog');

# ---- Dry runs on the standby ----

# One changed client and one new one.
my $check_file = sql_bytes("P0000001,Changed,Last1,1941,m\nP9999999,New,Client,1990,f\n");
my ($out, $err) = run_ok($standby,
	"SELECT count(*) FROM ptimport.pt_import_clients($check_file, $acc1, dry_run => true)");
like($err, qr/NOTICE:  00000: would import 2 of 2 rows: 1 inserted, 1 updated, 0 unchanged/,
	'a dry run works on the standby, with the counts of the primary\'s data');
like($err, qr/DETAIL:  The run is not logged: the server is read-only/,
	'its NOTICE says the run is not logged');
($out, $err) = run_ok($standby,
	"SET ptimport.account_id = $acc1;\n"
	  . "SELECT count(*) FROM ptimport.pt_import_clients($check_file, dry_run => true);\n"
	  . "SELECT count(*) FROM ptimport.account_clients;",
	'regress_practice_app');
like($err, qr/would import 2 of 2 rows: 1 inserted, 1 updated, 0 unchanged/,
	'the application role dry-runs on the standby');
is( (split /\n/, $out)[1],
	scalar(grep { $_->{account_id} == $acc1 } @{ $primary_rows->{client} }),
	'and reads its account through the views');

# ---- Writes on the standby fail ----

my ($ret);
($ret, $out, $err) = run($standby,
	"SELECT count(*) FROM ptimport.pt_import_clients($check_file, $acc1)");
like($err, qr/ERROR:  25006: cannot import on a read-only server.*\n.*DETAIL:  The server is a standby\./,
	'a real import on the standby fails: the server is read-only');
($ret, $out, $err) = run($standby,
	"SELECT ptimport.submit($check_file, $acc1)");
like($err, qr/ERROR:  25006: cannot queue a file on a read-only server/,
	'so does a submission');
($ret, $out, $err) = run($standby, 'CALL ptimport.drain_inbox()', 'regress_worker');
like($err, qr/ERROR:  25006: .*read-only/,
	'and the inbox worker');
rows_equal(table_rows($standby, 'practice'), $primary_rows,
	'the standby still has exactly the rows of the primary');

# ---- After promotion ----

$primary->stop;
$standby->promote;
my $max_sql = q{SELECT (SELECT max(client_id) FROM ptimport.client), (SELECT max(run_id) FROM ptimport.import_run),
	   (SELECT max(file_id) FROM ptimport.inbox)};
my @old_max = split /\|/, $standby->safe_psql('practice', $max_sql);
($out, $err) = run_ok($standby,
	"SELECT count(*) FROM ptimport.pt_import_clients($check_file, $acc1, source_name => 'after.csv')");
like($err, qr/imported 2 of 2 rows: 1 inserted, 1 updated, 0 unchanged; 0 rows skipped; 0 groups created/,
	'after promotion an import works');
run_ok($standby, "SET ptimport.account_id = $acc1; SELECT ptimport.submit("
	  . sql_bytes("P0000002,Again,Last2,1942,f\n") . ')',
	'regress_practice_app');
run_ok($standby, 'CALL ptimport.drain_inbox()', 'regress_worker');
is( $standby->safe_psql('practice',
		'SELECT count(*) FROM ptimport.inbox WHERE state = \'queued\''),
	'0', 'and the inbox worker imports the queued files');
my @new_max = split /\|/, $standby->safe_psql('practice', $max_sql);
is(scalar(grep { $new_max[$_] > $old_max[$_] } 0 .. 2), 3,
	'new clients, runs and files take ids after those of the primary');

$standby->stop;
done_testing();
