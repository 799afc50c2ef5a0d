# 005_dump_restore.pl
#   A database with imported data in two accounts, an application role set
#   up with grant_app/grant_account, a worker role and an inbox with files,
#   dumped with pg_dump by a backup role (BYPASSRLS) in plain and custom
#   format and restored into a fresh cluster the ways the README says:
#   psql --single-transaction, pg_restore --single-transaction, and a
#   parallel pg_restore in three steps (the data step with
#   --disable-triggers).  Each restore has the same rows, catalog (policies,
#   grants, initial privileges) and account_access rows; the application
#   role works; new imports take ids after the restored ones.  A backup role
#   without BYPASSRLS cannot dump the data.  A 1.0 dump restores by the
#   README's procedure for it.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use PtImportTest;
use Test::More;

my ($acc1, $acc2) = (1, 2);
my $dir = PostgreSQL::Test::Utils::tempdir;

my $source = start_node('source', "autovacuum = off\n");
$source->safe_psql('postgres', 'CREATE DATABASE practice');

# ---- The database to dump ----

psql_ok($source, 'practice', qq{
CREATE EXTENSION ptimport;
CREATE ROLE regress_practice_app LOGIN;
SELECT ptimport.grant_app('regress_practice_app');
SELECT ptimport.grant_account('regress_practice_app', $acc1);
CREATE ROLE regress_worker LOGIN;
SELECT ptimport.grant_worker('regress_worker');
-- The backup role: reads everything, and is not subject to row-level security.
CREATE ROLE regress_backup LOGIN BYPASSRLS IN ROLE pg_read_all_data;
-- The same without BYPASSRLS.
CREATE ROLE regress_reader LOGIN IN ROLE pg_read_all_data;
});

# Account 1 imports as the application role, account 2 as the superuser.
psql_ok($source, 'practice',
	"SET ptimport.account_id = $acc1; SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes(client_file(300, 'A'))
	  . ", source_name => 'a.csv')",
	'regress_practice_app');
psql_ok($source, 'practice',
	"SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes(small_file())
	  . ", $acc2, source_name => 'b.csv');\n"
	  . "SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes(client_file(50))
	  . ", $acc2, dry_run => true)");

# The inbox: files done and failed by the worker, and files still queued.
psql_ok($source, 'practice',
	"SET ptimport.account_id = $acc1; SELECT ptimport.submit("
	  . sql_bytes(client_file(20, 'B'))
	  . ", source_name => 'b.csv'), ptimport.submit('\\x41004200'::bytea, source_name => 'utf16.csv')",
	'regress_practice_app');
psql_ok($source, 'practice', 'CALL ptimport.drain_inbox()', 'regress_worker');
psql_ok($source, 'practice',
	"SET ptimport.account_id = $acc1; SELECT ptimport.submit("
	  . sql_bytes(client_file(10, 'C'))
	  . ", source_name => 'c.csv')",
	'regress_practice_app');
psql_ok($source, 'practice',
	"SELECT ptimport.submit(" . sql_bytes(small_file()) . ", $acc2, source_name => 'd.csv')");
is( $source->safe_psql(
		'practice',
		"SELECT string_agg(account_id || ' ' || state, ', ' ORDER BY file_id) FROM ptimport.inbox"),
	"$acc1 done, $acc1 failed, $acc1 queued, $acc2 queued",
	'the inbox has done, failed and queued files');

my $source_rows = table_rows($source, 'practice');
my $source_catalog = catalog($source, 'practice');
cmp_ok(scalar @{ $source_rows->{client} }, '>', 300, 'the database has clients in both accounts');
cmp_ok(scalar @{ $source_rows->{account_access} }, '>', 1, 'and grants in account_access');

# ---- Dumps ----

# The roles first, as pg_dumpall --roles-only gives them; then the
# database, as the backup role.
$source->command_ok([ 'pg_dumpall', '--roles-only', '-f', "$dir/roles.sql" ],
	'pg_dumpall --roles-only');
$source->command_ok(
	[ 'pg_dump', '-U', 'regress_backup', '-Fp', '-f', "$dir/practice.sql", 'practice' ],
	'pg_dump --format=plain as a BYPASSRLS role');
$source->command_ok(
	[ 'pg_dump', '-U', 'regress_backup', '-Fc', '-f', "$dir/practice.dump", 'practice' ],
	'pg_dump --format=custom as a BYPASSRLS role');
$source->command_fails_like(
	[ 'pg_dump', '-U', 'regress_reader', '-Fc', '-f', "$dir/refused.dump", 'practice' ],
	qr/query would be affected by row-level security policy for table/,
	'pg_dump as a role without BYPASSRLS fails on row-level security');

# ---- Restores, into a fresh cluster ----

my $target = start_node('target', "autovacuum = off\n");
# The bootstrap superuser exists already; every other role is created.
$target->psql('postgres', slurp_file("$dir/roles.sql"), on_error_stop => 0);
my $roles_sql = q{SELECT string_agg(concat_ws(' ', rolname, rolcanlogin, rolbypassrls,
	(SELECT string_agg(m.roleid::regrole::text, ',') FROM pg_auth_members AS m WHERE m.member = r.oid)), ', ' ORDER BY rolname)
FROM pg_roles AS r WHERE rolname LIKE 'regress\_%'};
is($target->safe_psql('postgres', $roles_sql),
	$source->safe_psql('postgres', $roles_sql), 'the roles are restored first');

# The restores the README gives, each into a database of its own.
my %restores = (
	plain => [
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction',
			'-f', "$dir/practice.sql", '-d', 'plain' ]
	],
	custom => [
		[ 'pg_restore', '--exit-on-error', '--single-transaction', '-d', 'custom',
			"$dir/practice.dump" ]
	],
	parallel => [
		[ 'pg_restore', '--exit-on-error', '--section=pre-data', '-d', 'parallel',
			"$dir/practice.dump" ],
		[ 'pg_restore', '--exit-on-error', '--data-only', '--disable-triggers', '-j', '2',
			'-d', 'parallel', "$dir/practice.dump" ],
		[ 'pg_restore', '--exit-on-error', '--section=post-data', '-d', 'parallel',
			"$dir/practice.dump" ]
	]);

for my $db (sort keys %restores)
{
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->command_ok($_, "$db: " . join(' ', grep { !m{^/} } @$_)) for @{ $restores{$db} };

	rows_equal(table_rows($target, $db), $source_rows, "$db: every row of every table is restored");
	catalogs_equal(catalog($target, $db), $source_catalog,
		"$db: the catalog is restored, with the policies, grants and initial privileges");

	# Every identity sequence continues after the highest restored id.
	my @identities = split /\n/, $target->safe_psql($db, q{
SELECT format('%s|%s|%s', c.oid::regclass, quote_ident(a.attname),
			  pg_get_serial_sequence(c.oid::regclass::text, a.attname))
FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid
WHERE c.relnamespace = 'ptimport'::regnamespace AND a.attidentity <> ''
ORDER BY 1});
	cmp_ok(scalar @identities, '>=', 4, "$db: the tables have identity columns");
	for (@identities)
	{
		my ($table, $column, $sequence) = split /\|/;
		is( $target->safe_psql($db,
				"SELECT coalesce(max($column), 0) <= coalesce(pg_sequence_last_value('$sequence'), 0) FROM $table"),
			't', "$db: $sequence is at or past the highest $table.$column");
	}

	# The application role reads its account through the views, and the
	# next import, submission and inbox run take new ids.
	my $max_sql = q{SELECT (SELECT max(client_id) FROM ptimport.client), (SELECT max(group_id) FROM ptimport.client_group),
	   (SELECT max(run_id) FROM ptimport.import_run), (SELECT max(file_id) FROM ptimport.inbox)};
	my @restored_max = split /\|/, $target->safe_psql($db, $max_sql);
	is( $target->safe_psql(
			$db,
			"SET ptimport.account_id = $acc1; SELECT count(*) FROM ptimport.account_clients",
			extra_params => [ '-U', 'regress_practice_app' ]),
		scalar(grep { $_->{account_id} == $acc1 } @{ $source_rows->{client} }),
		"$db: the application role sees its account's clients");
	psql_ok($target, $db,
		"SET ptimport.account_id = $acc1;\n"
		  . "SELECT count(*) FROM ptimport.pt_import_clients("
		  . sql_bytes("N1,New,Client,1980,f,,,,A brand new group\n") . ");\n"
		  . "SELECT ptimport.submit(" . sql_bytes("N2,Next,Client,1981,m,,,,Another new group\n") . ");",
		'regress_practice_app');
	psql_ok($target, $db, 'CALL ptimport.drain_inbox()', 'regress_worker');
	is( $target->safe_psql(
			$db,
			"SELECT string_agg(state, ',' ORDER BY file_id) FROM ptimport.inbox WHERE account_id = $acc1"),
		'done,failed,done,done', "$db: the worker imports the restored queue and the new file");
	my @new_max = split /\|/, $target->safe_psql($db, $max_sql);
	my @grew = grep { $new_max[$_] > $restored_max[$_] } 0 .. 3;
	is(scalar @grew, 4, "$db: new clients, groups, runs and files take ids after the restored ones");
}

# ---- A dump of a 1.0 database ----
#
# pg_dump does not record the extension's version: a 1.0 dump restored
# where 1.1 is installed would create 1.1 and load the 1.0 rows past the
# update's steps.  The README's procedure: create the extension at 1.0,
# restore everything but the schema, update.
$source->safe_psql('postgres', 'CREATE DATABASE practice10');
psql_ok($source, 'practice10', qq{
CREATE EXTENSION ptimport VERSION '1.0';
SELECT count(*) FROM ptimport.pt_import_clients(@{[ sql_bytes(client_file(40, 'O')) ]}, $acc1, false, 'UTF8', 'old.csv');
SELECT ptimport.submit(@{[ sql_bytes(small_file()) ]}, $acc2, 'queued.csv');
});
my $rows_10 = table_rows($source, 'practice10');
$source->command_ok([ 'pg_dump', '-Fc', '-f', "$dir/practice10.dump", 'practice10' ],
	'pg_dump of a 1.0 database');
$target->command_ok([ 'pg_restore', '-l', '-f', "$dir/practice10.list", "$dir/practice10.dump" ],
	'the 1.0 dump lists its entries');
PostgreSQL::Test::Utils::append_to_file("$dir/practice10-no-schema.list",
	join '', grep { !/ SCHEMA - ptimport / } split /^/, slurp_file("$dir/practice10.list"));
$target->safe_psql('postgres', 'CREATE DATABASE practice10');
$target->safe_psql('practice10', "CREATE EXTENSION ptimport VERSION '1.0'");
$target->command_ok(
	[ 'pg_restore', '--exit-on-error', '--single-transaction', '-L', "$dir/practice10-no-schema.list",
		'-d', 'practice10', "$dir/practice10.dump" ],
	'the 1.0 dump restores into ptimport 1.0');
rows_equal(table_rows($target, 'practice10'), $rows_10, 'the 1.0 rows are restored');
$target->safe_psql('practice10', 'ALTER EXTENSION ptimport UPDATE');
$target->safe_psql('postgres', 'CREATE DATABASE fresh');
$target->safe_psql('fresh', 'CREATE EXTENSION ptimport');
catalogs_equal(catalog($target, 'practice10'), catalog($target, 'fresh'),
	'after the update its catalog equals a fresh install');
$target->safe_psql('practice10', 'CALL ptimport.drain_inbox()');
is($target->safe_psql('practice10', 'SELECT string_agg(state, \',\') FROM ptimport.inbox'),
	'done', 'the file queued under 1.0 is imported');

$source->stop;
$target->stop;
done_testing();
