# 004_upgrade.pl
#   ALTER EXTENSION ptimport UPDATE on a 1.0 database full of data, with
#   the installed (current) library: ptimport--1.0.sql is the released file,
#   every row survives the update unchanged except for the documented group
#   merge, the current behaviour works on the old rows, the catalog equals
#   that of a fresh CREATE EXTENSION, and running the update scripts a
#   second time changes neither the catalog nor the data.
use strict;
use warnings;

use Digest::SHA;
use Encode qw(encode);
use PostgreSQL::Test::Utils;
use PtImportTest;
use Test::More;

# The released ptimport--1.0.sql.  It must never change: installed
# databases were made by it, and every change reaches them through an
# update script.
my $released_1_0_sha256 = 'e7186c5aabdacec832dc1980668746e967bfbc65a70d6be5b4cfbb5984d3f45f';

# The accounts the old data belongs to.
my ($acc1, $acc2) = (1, 2);

# Group names 1.0 kept apart (its lower() neither normalizes nor folds
# compatibility forms) and the update merges: "Café" in NFC and in NFD,
# and "VIP" in ASCII and in full-width letters.  "vip" already matched
# "VIP" in 1.0.
my $cafe_nfc = "Caf\x{e9}";
my $cafe_nfd = "Cafe\x{301}";
my $vip_wide = "\x{ff36}\x{ff29}\x{ff30}";

# The default version, from the control file that is installed.
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $control = slurp_file("$sharedir/extension/ptimport.control");
my ($default_version) = $control =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $default_version, "the installed control file names a default version");

# ---- 1.0 is frozen ----

for my $file ('ptimport--1.0.sql', "$sharedir/extension/ptimport--1.0.sql")
{
	is(Digest::SHA->new(256)->addfile($file)->hexdigest,
		$released_1_0_sha256,
		"$file is the released 1.0 script: 1.0 is frozen, so change the schema in an update script instead");
}

my $node = start_node('upgrade', "autovacuum = off\n");
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

my $path = $node->safe_psql('postgres', qq{
SELECT coalesce(path, 'none') FROM pg_catalog.pg_extension_update_paths('ptimport')
WHERE source = '1.0' AND target = '$default_version'});
isnt($path, 'none', "the installed update scripts lead from 1.0 to $default_version ($path)");

# ---- A 1.0 database, filled through the 1.0 functions ----

$node->safe_psql('upgraded', "CREATE EXTENSION ptimport VERSION '1.0'");

# Imports $csv into $account through the 1.0 declaration, which has five
# arguments; returns the NOTICE and its problem rows.
sub import_1_0
{
	my ($csv, $account, $name, $dry_run) = @_;
	my ($out, $err) = psql_ok($node, 'upgraded',
		"SELECT line_no, code FROM ptimport.pt_import_clients("
		  . sql_bytes($csv) . ", $account, "
		  . ($dry_run ? 'true' : 'false')
		  . ", 'UTF8', '$name')");
	return ($err, $out);
}

my ($notice, $problems) = import_1_0(
	"A1,Ann,Lee,1980,f,ann\@example.com,0031611111111,K01,VIP\n"
	  . "A2,Bob,Lee,1975,m,,,,vip\n"
	  . "A3,Cy,Lee,1990,m,,,,$cafe_nfc\n"
	  . "A4,Di,Lee,1985,x\n"
	  . "A5,Ed,Lee,1970,m,not-an-email\n",
	$acc1, 'a1.csv');
like($notice, qr/imported 4 of 5 rows: 4 inserted, .*2 groups created/,
	'1.0: the first file of account 1 imports, VIP and vip as one group');
is($problems, "4|invalid_gender\n5|invalid_email", '1.0: its problem rows');

($notice) = import_1_0(
	"A6,Fay,Lee,1982,f,,,,$cafe_nfd\n"
	  . "A7,Gus,Lee,1983,m,,,,$vip_wide\n"
	  . "A8,Hal,Lee,1984,m,,,,Team\n",
	$acc1, 'a2.csv');
like($notice, qr/imported 3 of 3 rows: 3 inserted/, '1.0: the second file of account 1 imports');

# If the library folds a name in reading the file, the group 1.0 would have
# made of it is made here directly, and its client moved into it.
for my $case ([ $cafe_nfd, 'A6' ], [ $vip_wide, 'A7' ])
{
	my ($name, $client) = @$case;
	psql_ok($node, 'upgraded', qq{
INSERT INTO ptimport.client_group (account_id, name)
SELECT $acc1, @{[ sql_text($name) ]}
WHERE NOT EXISTS (SELECT FROM ptimport.client_group
				  WHERE account_id = $acc1 AND name = @{[ sql_text($name) ]});
UPDATE ptimport.client
SET group_id = (SELECT group_id FROM ptimport.client_group
				WHERE account_id = $acc1 AND name = @{[ sql_text($name) ]})
WHERE account_id = $acc1 AND internal_id = '$client'});
}

($notice) = import_1_0("B1,Ivy,Kim,1979,f,,,,VIP\nB2,Jon,Kim,1988,m,,,,$cafe_nfd\n",
	$acc2, 'b1.csv');
like($notice, qr/imported 2 of 2 rows: 2 inserted/, '1.0: account 2 imports');
($notice) = import_1_0("B1,Ivy,Kim,1979,f,,,,vip\nB9,Zoe,Kim,1999,f\n", $acc2, 'b2.csv', 1);
like($notice, qr/would import 2 of 2 rows: 1 inserted, 0 updated, 1 unchanged/,
	'1.0: a dry run of account 2 is logged');

# An application role set up as the 1.0 README said, importing for account
# 2 under row-level security.
psql_ok($node, 'upgraded', q{
CREATE ROLE regress_practice_app;
GRANT USAGE ON SCHEMA ptimport TO regress_practice_app;
GRANT EXECUTE ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text) TO regress_practice_app;
GRANT SELECT, INSERT, UPDATE ON ptimport.client, ptimport.client_group TO regress_practice_app;
GRANT SELECT, INSERT ON ptimport.import_run, ptimport.import_issue TO regress_practice_app;
GRANT EXECUTE ON FUNCTION ptimport.submit(bytea, bigint, text, text) TO regress_practice_app;
GRANT SELECT, INSERT ON ptimport.inbox TO regress_practice_app;
GRANT SELECT ON ptimport.inbox_status TO regress_practice_app;
});
(undef, $notice) = psql_ok($node, 'upgraded',
	"SET ROLE regress_practice_app; SET ptimport.account_id = $acc2;\n"
	  . "SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes("B2,Jon,Kim,1988,m,jon\@example.org\nB3,Kay,Kim,1960,f,,,,Team\n")
	  . ", source_name => 'b3.csv')");
like($notice, qr/imported 2 of 2 rows: 1 inserted, 1 updated, 0 unchanged; 0 rows skipped; 1 group created/,
	'1.0: the application role imports for its account');

# The inbox in every state: done and failed (contents purged), done
# (contents kept), queued, and a 'processing' row as a worker holds it
# inside its transaction (inserted directly: the table allows it).
psql_ok($node, 'upgraded',
	"SELECT ptimport.submit(" . sql_bytes("B4,Lu,Kim,1970,m\n") . ", $acc2, 'c.csv');\n"
	  . "SELECT ptimport.submit('\\x41312c416e6e2c4cff'::bytea, $acc1, 'bad.csv');\n"
	  . "SELECT ptimport.process_inbox();\n"
	  . "SET ptimport.inbox_retention_days = 0;\n"
	  . "SELECT ptimport.purge_inbox();\n"
	  . "RESET ptimport.inbox_retention_days;\n"
	  . "SELECT ptimport.submit(" . sql_bytes("B5,Mo,Kim,1971,f\n") . ", $acc2, 'd.csv');\n"
	  . "SELECT ptimport.process_inbox();\n"
	  . "SELECT ptimport.submit("
	  . sql_bytes("A1,Anna,Lee,1980,f\nA9,Ivo,Lee,1986,m,,,,Team\n")
	  . ", $acc1, 'queued.csv');\n"
	  . "INSERT INTO ptimport.inbox (account_id, source_name, size_bytes, content, state)\n"
	  . "VALUES ($acc2, 'stuck.csv', 17, "
	  . sql_bytes("B6,Ny,Kim,1972,m\n")
	  . ", 'processing');\n");
is( $node->safe_psql(
		'upgraded', q{
SELECT string_agg(concat_ws(' ', source_name, state, content IS NOT NULL, run_id IS NOT NULL, error_sqlstate), ', ' ORDER BY file_id)
FROM ptimport.inbox}),
	'c.csv done f t, bad.csv failed f f 22021, d.csv done t t, queued.csv queued t f, stuck.csv processing t f',
	'1.0: inbox rows in every state');

# ---- The update ----

my $columns_1_0 = table_columns($node, 'upgraded');
my $rows_1_0 = table_rows($node, 'upgraded', $columns_1_0);

# The groups the update is to merge away, and the group each goes into: the
# oldest group of its account with an equal name.
my %merge_into;
for my $case ([ $cafe_nfd, $cafe_nfc ], [ $vip_wide, 'VIP' ])
{
	my ($from, $into) = split /\|/, $node->safe_psql(
		'upgraded', qq{
SELECT m.group_id, k.group_id
FROM ptimport.client_group AS m, ptimport.client_group AS k
WHERE m.account_id = $acc1 AND m.name = @{[ sql_text($case->[0]) ]}
  AND k.account_id = $acc1 AND k.name = @{[ sql_text($case->[1]) ]}});
	ok(defined $into && $into < $from, "group $from has an older equal group, $into");
	$merge_into{$from} = $into;
}

my ($ret, $out, $err) = $node->psql('upgraded', 'ALTER EXTENSION ptimport UPDATE');
is($ret, 0, 'ALTER EXTENSION ptimport UPDATE succeeds') or diag($err);
like($err,
	qr/WARNING:  merged 2 client groups into groups whose names are equal to them, case-insensitively; 2 clients moved/,
	'the update says which groups it merged');
like($err, qr/WARNING:  revoked the privileges of role regress_practice_app on (ptimport\.)?client\n/,
	"the update says it revoked the 1.0 application role's table privileges");
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'ptimport'"),
	$default_version, "the extension is at version $default_version");

# Every row of every 1.0 table, in the 1.0 columns, is unchanged, except
# that the merged groups are gone and their clients are in the groups they
# were merged into.
my %expected = %$rows_1_0;
$expected{client_group} = [
	grep { !($_->{account_id} == $acc1 && exists $merge_into{ $_->{group_id} }) }
	  @{ $rows_1_0->{client_group} } ];
$expected{client} = [
	map {
		my %c = %$_;
		$c{group_id} = $merge_into{ $c{group_id} }
		  if $c{account_id} == $acc1 && defined $c{group_id} && exists $merge_into{ $c{group_id} };
		\%c
	} @{ $rows_1_0->{client} } ];
rows_equal(table_rows($node, 'upgraded', $columns_1_0),
	\%expected, 'every 1.0 row is kept, with only the documented group merge');
is($node->safe_psql('upgraded', 'SELECT string_agg(account_id::text, \',\' ORDER BY account_id) FROM ptimport.account'),
	"$acc1,$acc2", 'every account with rows has its row in ptimport.account');

# Of the 1.0 application role's privileges, only USAGE on the schema is left
# (the functions it could run were replaced; its table privileges were
# revoked).  It is taken away here so that the catalog can be compared.
is( $node->safe_psql(
		'upgraded', q{
SELECT count(*) FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
WHERE c.relnamespace = 'ptimport'::regnamespace AND a.grantee = 'regress_practice_app'::regrole}),
	'0', 'the 1.0 application role has no privilege left on any table or view');
ok( $node->safe_psql('upgraded',
		"SELECT pg_catalog.has_schema_privilege('regress_practice_app', 'ptimport', 'USAGE')") eq 't',
	'the 1.0 application role still has USAGE on the schema');
$node->safe_psql('upgraded', 'REVOKE USAGE ON SCHEMA ptimport FROM regress_practice_app');

# ---- The catalog equals a fresh install's ----

$node->safe_psql('fresh', 'CREATE EXTENSION ptimport');
my $fresh_catalog = catalog($node, 'fresh');
my $upgraded_catalog = catalog($node, 'upgraded');
catalogs_equal($upgraded_catalog, $fresh_catalog,
	'the updated catalog equals a fresh CREATE EXTENSION ptimport');

# ---- The update scripts can run twice ----
#
# On a Citus worker the update script runs again on a node that already
# has it applied.  Setting the recorded version back to 1.0 makes ALTER
# EXTENSION run every update script again, as an extension script, on the
# updated database.
my $rows_updated = table_rows($node, 'upgraded');
($ret, $out, $err) = $node->psql('upgraded',
	"UPDATE pg_catalog.pg_extension SET extversion = '1.0' WHERE extname = 'ptimport';\n"
	  . "ALTER EXTENSION ptimport UPDATE;");
is($ret, 0, 'the update scripts run a second time on the updated database') or diag($err);
catalogs_equal(catalog($node, 'upgraded'), $fresh_catalog,
	'after the second run the catalog still equals a fresh install');
rows_equal(table_rows($node, 'upgraded'), $rows_updated,
	'the second run changed no row');

# ---- The current behaviour on the old data ----

# An import through the current declaration updates an old client and
# finds the old groups case-insensitively and in any normal form.
($out, $err) = psql_ok($node, 'upgraded',
	"SELECT count(*) FROM ptimport.pt_import_clients("
	  . sql_bytes("A1,Anne,Lee,1980,f,,,,vip\nA10,Kai,Lee,1991,m,,,,$cafe_nfd\n")
	  . ", $acc1, source_name => 'new.csv', mode => 'upsert');\n"
	  . "SELECT rows_inserted, rows_updated, groups_created FROM ptimport.import_run\n"
	  . "WHERE account_id = $acc1 AND run_id = ptimport.last_run_id();");
is($out, "0\n1|1|0", 'a new import updates an old client and creates no group');
is( $node->safe_psql(
		'upgraded', qq{
SELECT string_agg(c.internal_id || ' ' || c.first_name || ' ' || g.name, ', ' ORDER BY c.internal_id)
FROM ptimport.client AS c JOIN ptimport.client_group AS g USING (account_id, group_id)
WHERE c.account_id = $acc1 AND c.internal_id IN ('A1', 'A10')}),
	encode('UTF-8', "A1 Anne VIP, A10 Kai $cafe_nfc"),
	'the old client is updated and both rows are in the old groups');

# The file queued under 1.0 is imported by the current worker; the row a
# 1.0 worker held as 'processing' is left as it was.
$node->safe_psql('upgraded', 'CALL ptimport.drain_inbox()');
is( $node->safe_psql(
		'upgraded', q{
SELECT string_agg(concat_ws(' ', i.source_name, i.state, r.rows_inserted, r.rows_updated), ', ' ORDER BY i.file_id)
FROM ptimport.inbox AS i LEFT JOIN ptimport.import_run AS r USING (account_id, run_id)
WHERE i.source_name IN ('queued.csv', 'stuck.csv')}),
	'queued.csv done 1 1, stuck.csv processing',
	'drain_inbox imports the file queued under 1.0');
$node->safe_psql('upgraded',
	"SELECT ptimport.submit(" . sql_bytes("A11,Lia,Lee,1992,f\n") . ", $acc1, 'late.csv')");
is($node->safe_psql('upgraded', 'SELECT ptimport.process_inbox()'),
	'1', 'process_inbox imports a file submitted after the update');

# The 1.0 application role, set up the new way, reads its account through
# the views and no other account.
$node->safe_psql('upgraded',
	"SELECT ptimport.grant_app('regress_practice_app'), ptimport.grant_account('regress_practice_app', $acc2)");
# Each view and the table it shows.
my @views = ([ account_clients => 'client' ], [ account_groups => 'client_group' ],
	[ account_runs => 'import_run' ], [ account_issues => 'import_issue' ],
	[ inbox_status => 'inbox' ]);
my $through_views = join ', ', map { "(SELECT count(*) FROM ptimport.$_->[0])" } @views;
my $in_tables = join ', ',
  map { "(SELECT count(*) FROM ptimport.$_->[1] WHERE account_id = $acc2)" } @views;
is( $node->safe_psql('upgraded',
		"SET ROLE regress_practice_app; SET ptimport.account_id = $acc2; SELECT $through_views"),
	$node->safe_psql('upgraded', "SELECT $in_tables"),
	"the application role sees all of account $acc2 through the views");
($ret, $out, $err) = $node->psql('upgraded',
	"SET ROLE regress_practice_app; SET ptimport.account_id = $acc1; SELECT count(*) FROM ptimport.account_clients");
like($err, qr/ERROR:  role "regress_practice_app" may not act for account $acc1/,
	'and may not act for another account');
($ret, $out, $err) = $node->psql('upgraded',
	"SET ROLE regress_practice_app; SELECT count(*) FROM ptimport.client");
like($err, qr/permission denied for table client/, 'and has no privilege on the tables');

$node->stop;
done_testing();
